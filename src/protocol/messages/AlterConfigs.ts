import { api, versions, array, bool, field, int8, int16, int32, string, struct } from "../Message.ts"

export const AlterConfigs = api({
  key: 33,
  name: "AlterConfigs",
  validVersions: versions("0-2"),
  flexibleFrom: 2,
  request: struct({
    resources: field(array(struct({
      resourceType: field(int8),
      resourceName: field(string),
      configs: field(array(struct({
        name: field(string),
        value: field(string, "0+", { nullable: "0+" }),
      }))),
    }))),
    validateOnly: field(bool),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    responses: field(array(struct({
      errorCode: field(int16),
      errorMessage: field(string, "0+", { nullable: "0+" }),
      resourceType: field(int8),
      resourceName: field(string),
    }))),
  })
})
