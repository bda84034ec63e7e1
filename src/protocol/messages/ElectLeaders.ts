import { api, versions, array, field, int8, int16, int32, string, struct } from "../Message.ts"

export const ElectLeaders = api({
  key: 43,
  name: "ElectLeaders",
  validVersions: versions("0-2"),
  flexibleFrom: 2,
  request: struct({
    electionType: field(int8, "1+"),
    topicPartitions: field(array(struct({
      topic: field(string),
      partitions: field(array(int32)),
    })), "0+", { nullable: "0+" }),
    timeoutMs: field(int32, "0+", { default: 60000 }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16, "1+"),
    replicaElectionResults: field(array(struct({
      topic: field(string),
      partitionResult: field(array(struct({
        partitionId: field(int32),
        errorCode: field(int16),
        errorMessage: field(string, "0+", { nullable: "0+" }),
      }))),
    }))),
  })
})
