import { api, versions, array, bool, field, int16, int32, int64, string, struct } from "../Message.ts"

export const AddPartitionsToTxn = api({
  key: 24,
  name: "AddPartitionsToTxn",
  validVersions: versions("0-5"),
  flexibleFrom: 3,
  request: struct({
    // v4+ batches transactions (broker to broker); v0-3 carry one transaction at the top level.
    transactions: field(array(struct({
      transactionalId: field(string, "4+"),
      producerId: field(int64, "4+"),
      producerEpoch: field(int16, "4+"),
      verifyOnly: field(bool, "4+", { default: false }),
      topics: field(array(struct({
        name: field(string),
        partitions: field(array(int32)),
      })), "4+"),
    })), "4+"),
    v3AndBelowTransactionalId: field(string, "0-3"),
    v3AndBelowProducerId: field(int64, "0-3"),
    v3AndBelowProducerEpoch: field(int16, "0-3"),
    v3AndBelowTopics: field(array(struct({
      name: field(string),
      partitions: field(array(int32)),
    })), "0-3"),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16, "4+"),
    resultsByTransaction: field(array(struct({
      transactionalId: field(string, "4+"),
      topicResults: field(array(struct({
        name: field(string),
        resultsByPartition: field(array(struct({
          partitionIndex: field(int32),
          partitionErrorCode: field(int16),
        }))),
      })), "4+"),
    })), "4+"),
    resultsByTopicV3AndBelow: field(array(struct({
      name: field(string),
      resultsByPartition: field(array(struct({
        partitionIndex: field(int32),
        partitionErrorCode: field(int16),
      }))),
    })), "0-3"),
  })
})
