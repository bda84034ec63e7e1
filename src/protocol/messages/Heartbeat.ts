import { api, versions, field, int16, int32, string, struct } from "../Message.ts"

export const Heartbeat = api({
  key: 12,
  name: "Heartbeat",
  validVersions: versions("0-4"),
  flexibleFrom: 4,
  request: struct({
    groupId: field(string),
    generationId: field(int32),
    memberId: field(string),
    groupInstanceId: field(string, "3+", { nullable: "3+", default: null }),
  }),
  response: struct({
    throttleTimeMs: field(int32, "1+"),
    errorCode: field(int16),
  })
})
