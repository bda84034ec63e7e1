import { api, versions, array, field, int16, int32, string, struct } from "../Message.ts"

export const ListPartitionReassignments = api({
  key: 46,
  name: "ListPartitionReassignments",
  validVersions: versions("0"),
  flexibleFrom: 0,
  request: struct({
    timeoutMs: field(int32, "0+", { default: 60000 }),
    topics: field(array(struct({
      name: field(string),
      partitionIndexes: field(array(int32)),
    })), "0+", { nullable: "0+", default: null }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    errorMessage: field(string, "0+", { nullable: "0+" }),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        replicas: field(array(int32)),
        addingReplicas: field(array(int32)),
        removingReplicas: field(array(int32)),
      }))),
    }))),
  })
})
