import { api, versions, array, bytes, field, int16, int32, string, struct } from "../Message.ts"

export const SyncGroup = api({
  key: 14,
  name: "SyncGroup",
  validVersions: versions("0-5"),
  flexibleFrom: 4,
  request: struct({
    groupId: field(string),
    generationId: field(int32),
    memberId: field(string),
    groupInstanceId: field(string, "3+", { nullable: "3+", default: null }),
    protocolType: field(string, "5+", { nullable: "5+", default: null }),
    protocolName: field(string, "5+", { nullable: "5+", default: null }),
    assignments: field(array(struct({
      memberId: field(string),
      assignment: field(bytes),
    }))),
  }),
  response: struct({
    throttleTimeMs: field(int32, "1+"),
    errorCode: field(int16),
    protocolType: field(string, "5+", { nullable: "5+", default: null }),
    protocolName: field(string, "5+", { nullable: "5+", default: null }),
    assignment: field(bytes),
  })
})
