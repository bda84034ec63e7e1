import { api, versions, array, bool, field, int16, int32, string, struct } from "../Message.ts"

export const AlterPartitionReassignments = api({
  key: 45,
  name: "AlterPartitionReassignments",
  validVersions: versions("0-1"),
  flexibleFrom: 0,
  request: struct({
    timeoutMs: field(int32, "0+", { default: 60000 }),
    allowReplicationFactorChange: field(bool, "1+", { default: true }),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        replicas: field(array(int32), "0+", { nullable: "0+", default: null }),
      }))),
    }))),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    allowReplicationFactorChange: field(bool, "1+", { default: true }),
    errorCode: field(int16),
    errorMessage: field(string, "0+", { nullable: "0+" }),
    responses: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        errorCode: field(int16),
        errorMessage: field(string, "0+", { nullable: "0+" }),
      }))),
    }))),
  })
})
