import { api, versions, array, field, int16, int32, string, struct } from "../Message.ts"

export const DeleteGroups = api({
  key: 42,
  name: "DeleteGroups",
  validVersions: versions("0-2"),
  flexibleFrom: 2,
  request: struct({
    groupsNames: field(array(string)),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    results: field(array(struct({
      groupId: field(string),
      errorCode: field(int16),
    }))),
  })
})
