import { api, versions, array, field, int16, int32, int64, string, struct } from "../Message.ts"

export const DescribeProducers = api({
  key: 61,
  name: "DescribeProducers",
  validVersions: versions("0"),
  flexibleFrom: 0,
  request: struct({
    topics: field(array(struct({
      name: field(string),
      partitionIndexes: field(array(int32)),
    }))),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        errorCode: field(int16),
        errorMessage: field(string, "0+", { nullable: "0+", default: null }),
        activeProducers: field(array(struct({
          producerId: field(int64),
          producerEpoch: field(int32),
          lastSequence: field(int32, "0+", { default: -1 }),
          lastTimestamp: field(int64, "0+", { default: -1 }),
          coordinatorEpoch: field(int32),
          currentTxnStartOffset: field(int64, "0+", { default: -1 }),
        }))),
      }))),
    }))),
  })
})
