import { api, versions, array, field, int16, int32, int8, string, struct } from "../Message.ts"

// Kafka 4.x serves v1-v3; v0 (no pattern type) is described for the wire format's sake.
export const DescribeAcls = api({
  key: 29,
  name: "DescribeAcls",
  validVersions: versions("0-3"),
  flexibleFrom: 2,
  request: struct({
    resourceTypeFilter: field(int8),
    resourceNameFilter: field(string, "0+", { nullable: "0+" }),
    patternTypeFilter: field(int8, "1+", { default: 3 }),
    principalFilter: field(string, "0+", { nullable: "0+" }),
    hostFilter: field(string, "0+", { nullable: "0+" }),
    operation: field(int8),
    permissionType: field(int8),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    errorMessage: field(string, "0+", { nullable: "0+", default: null }),
    resources: field(array(struct({
      resourceType: field(int8),
      resourceName: field(string),
      patternType: field(int8, "1+", { default: 3 }),
      acls: field(array(struct({
        principal: field(string),
        host: field(string),
        operation: field(int8),
        permissionType: field(int8),
      }))),
    }))),
  })
})
