import { api, versions, array, bool, field, int16, int32, int8, string, struct } from "../Message.ts"

export const DescribeCluster = api({
  key: 60,
  name: "DescribeCluster",
  validVersions: versions("0-1"),
  flexibleFrom: 0,
  request: struct({
    includeClusterAuthorizedOperations: field(bool),
    endpointType: field(int8, "1+", { default: 1 }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    errorMessage: field(string, "0+", { nullable: "0+", default: null }),
    endpointType: field(int8, "1+", { default: 1 }),
    clusterId: field(string),
    controllerId: field(int32, "0+", { default: -1 }),
    brokers: field(array(struct({
      brokerId: field(int32),
      host: field(string),
      port: field(int32),
      rack: field(string, "0+", { nullable: "0+", default: null }),
    }))),
    clusterAuthorizedOperations: field(int32, "0+", { default: -2147483648 }),
  })
})
