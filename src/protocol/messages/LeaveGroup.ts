import { api, versions, array, field, int16, int32, string, struct } from "../Message.ts"

export const LeaveGroup = api({
  key: 13,
  name: "LeaveGroup",
  validVersions: versions("0-5"),
  flexibleFrom: 4,
  request: struct({
    groupId: field(string),
    memberId: field(string, "0-2"),
    members: field(array(struct({
      memberId: field(string, "3+"),
      groupInstanceId: field(string, "3+", { nullable: "3+", default: null }),
      reason: field(string, "5+", { nullable: "5+", default: null }),
    })), "3+"),
  }),
  response: struct({
    throttleTimeMs: field(int32, "1+"),
    errorCode: field(int16),
    members: field(array(struct({
      memberId: field(string, "3+"),
      groupInstanceId: field(string, "3+", { nullable: "3+" }),
      errorCode: field(int16, "3+"),
    })), "3+"),
  })
})
