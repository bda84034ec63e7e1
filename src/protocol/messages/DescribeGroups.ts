import { api, versions, array, bool, bytes, field, int16, int32, string, struct } from "../Message.ts"

export const DescribeGroups = api({
  key: 15,
  name: "DescribeGroups",
  validVersions: versions("0-5"),
  flexibleFrom: 5,
  request: struct({
    groups: field(array(string)),
    includeAuthorizedOperations: field(bool, "3+"),
  }),
  response: struct({
    throttleTimeMs: field(int32, "1+"),
    groups: field(array(struct({
      errorCode: field(int16),
      groupId: field(string),
      groupState: field(string),
      protocolType: field(string),
      protocolData: field(string),
      members: field(array(struct({
        memberId: field(string),
        groupInstanceId: field(string, "4+", { nullable: "4+", default: null }),
        clientId: field(string),
        clientHost: field(string),
        memberMetadata: field(bytes),
        memberAssignment: field(bytes),
      }))),
      authorizedOperations: field(int32, "3+", { default: -2147483648 }),
    }))),
  })
})
