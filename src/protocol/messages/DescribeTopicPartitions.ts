import { api, versions, array, bool, field, int16, int32, string, struct, uuid } from "../Message.ts"

export const DescribeTopicPartitions = api({
  key: 75,
  name: "DescribeTopicPartitions",
  validVersions: versions("0-0"),
  flexibleFrom: 0,
  request: struct({
    topics: field(array(struct({
      name: field(string),
    }))),
    responsePartitionLimit: field(int32, "0+", { default: 2000 }),
    cursor: field(struct({
      topicName: field(string),
      partitionIndex: field(int32),
    }), "0+", { nullable: "0+", default: null }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    topics: field(array(struct({
      errorCode: field(int16),
      name: field(string, "0+", { nullable: "0+" }),
      topicId: field(uuid),
      isInternal: field(bool, "0+", { default: false }),
      partitions: field(array(struct({
        errorCode: field(int16),
        partitionIndex: field(int32),
        leaderId: field(int32),
        leaderEpoch: field(int32, "0+", { default: -1 }),
        replicaNodes: field(array(int32)),
        isrNodes: field(array(int32)),
        eligibleLeaderReplicas: field(array(int32), "0+", { nullable: "0+", default: null }),
        lastKnownElr: field(array(int32), "0+", { nullable: "0+", default: null }),
        offlineReplicas: field(array(int32)),
      }))),
      topicAuthorizedOperations: field(int32, "0+", { default: -2147483648 }),
    }))),
    nextCursor: field(struct({
      topicName: field(string),
      partitionIndex: field(int32),
    }), "0+", { nullable: "0+", default: null }),
  })
})
