import { api, versions, array, bool, bytes, field, int16, int32, string, struct } from "../Message.ts"

export const JoinGroup = api({
  key: 11,
  name: "JoinGroup",
  validVersions: versions("0-9"),
  flexibleFrom: 6,
  request: struct({
    groupId: field(string),
    sessionTimeoutMs: field(int32),
    rebalanceTimeoutMs: field(int32, "1+", { default: -1 }),
    memberId: field(string),
    groupInstanceId: field(string, "5+", { nullable: "5+", default: null }),
    protocolType: field(string),
    protocols: field(array(struct({
      name: field(string),
      metadata: field(bytes),
    }))),
    reason: field(string, "8+", { nullable: "8+", default: null }),
  }),
  response: struct({
    throttleTimeMs: field(int32, "2+"),
    errorCode: field(int16),
    generationId: field(int32, "0+", { default: -1 }),
    protocolType: field(string, "7+", { nullable: "7+", default: null }),
    protocolName: field(string, "0+", { nullable: "7+" }),
    leader: field(string),
    skipAssignment: field(bool, "9+", { default: false }),
    memberId: field(string),
    members: field(array(struct({
      memberId: field(string),
      groupInstanceId: field(string, "5+", { nullable: "5+", default: null }),
      metadata: field(bytes),
    }))),
  })
})
