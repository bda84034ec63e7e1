import { api, versions, array, field, int16, int32, int64, string, struct } from "../Message.ts"

export const DescribeTransactions = api({
  key: 65,
  name: "DescribeTransactions",
  validVersions: versions("0"),
  flexibleFrom: 0,
  request: struct({
    transactionalIds: field(array(string)),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    transactionStates: field(array(struct({
      errorCode: field(int16),
      transactionalId: field(string),
      transactionState: field(string),
      transactionTimeoutMs: field(int32),
      transactionStartTimeMs: field(int64),
      producerId: field(int64),
      producerEpoch: field(int16),
      topics: field(array(struct({
        topic: field(string),
        partitions: field(array(int32)),
      }))),
    }))),
  })
})
