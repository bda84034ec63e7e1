import { api, versions, array, field, int16, int32, int8, string, struct } from "../Message.ts"

// Kafka 4.x serves v1-v3; v0 (no pattern type) is described for the wire format's sake.
export const CreateAcls = api({
  key: 30,
  name: "CreateAcls",
  validVersions: versions("0-3"),
  flexibleFrom: 2,
  request: struct({
    creations: field(array(struct({
      resourceType: field(int8),
      resourceName: field(string),
      resourcePatternType: field(int8, "1+", { default: 3 }),
      principal: field(string),
      host: field(string),
      operation: field(int8),
      permissionType: field(int8),
    }))),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    results: field(array(struct({
      errorCode: field(int16),
      errorMessage: field(string, "0+", { nullable: "0+", default: null }),
    }))),
  })
})
