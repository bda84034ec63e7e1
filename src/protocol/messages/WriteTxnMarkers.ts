import { api, versions, array, bool, field, int16, int32, int64, string, struct } from "../Message.ts"

// Kafka 4.x serves only v1; v0 is described for the wire format's sake.
export const WriteTxnMarkers = api({
  key: 27,
  name: "WriteTxnMarkers",
  validVersions: versions("0-1"),
  flexibleFrom: 1,
  request: struct({
    markers: field(array(struct({
      producerId: field(int64),
      producerEpoch: field(int16),
      transactionResult: field(bool),
      topics: field(array(struct({
        name: field(string),
        partitionIndexes: field(array(int32)),
      }))),
      coordinatorEpoch: field(int32),
    }))),
  }),
  response: struct({
    markers: field(array(struct({
      producerId: field(int64),
      topics: field(array(struct({
        name: field(string),
        partitions: field(array(struct({
          partitionIndex: field(int32),
          errorCode: field(int16),
        }))),
      }))),
    }))),
  })
})
