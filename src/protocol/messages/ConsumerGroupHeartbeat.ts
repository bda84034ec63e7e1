import { api, array, field, int16, int32, string, struct, uuid, versions } from "../Message.ts"

const TopicPartitions = struct({
  topicId: field(uuid),
  partitions: field(array(int32))
})

export const ConsumerGroupHeartbeat = api({
  key: 68,
  name: "ConsumerGroupHeartbeat",
  validVersions: versions("0-1"),
  flexibleFrom: 0,
  request: struct({
    groupId: field(string),
    memberId: field(string),
    memberEpoch: field(int32),
    instanceId: field(string, "0+", { nullable: "0+", default: null }),
    rackId: field(string, "0+", { nullable: "0+", default: null }),
    rebalanceTimeoutMs: field(int32, "0+", { default: -1 }),
    subscribedTopicNames: field(array(string), "0+", { nullable: "0+", default: null }),
    subscribedTopicRegex: field(string, "1+", { nullable: "1+", default: null }),
    serverAssignor: field(string, "0+", { nullable: "0+", default: null }),
    topicPartitions: field(array(TopicPartitions), "0+", { nullable: "0+", default: null })
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    errorMessage: field(string, "0+", { nullable: "0+", default: null }),
    memberId: field(string, "0+", { nullable: "0+", default: null }),
    memberEpoch: field(int32),
    heartbeatIntervalMs: field(int32),
    assignment: field(struct({ topicPartitions: field(array(TopicPartitions)) }), "0+", { nullable: "0+", default: null })
  })
})
