import { api, versions, array, field, int16, int32, string, struct } from "../Message.ts"

export const ListGroups = api({
  key: 16,
  name: "ListGroups",
  validVersions: versions("0-5"),
  flexibleFrom: 3,
  request: struct({
    statesFilter: field(array(string), "4+"),
    typesFilter: field(array(string), "5+"),
  }),
  response: struct({
    throttleTimeMs: field(int32, "1+"),
    errorCode: field(int16),
    groups: field(array(struct({
      groupId: field(string),
      protocolType: field(string),
      groupState: field(string, "4+"),
      groupType: field(string, "5+"),
    }))),
  })
})
