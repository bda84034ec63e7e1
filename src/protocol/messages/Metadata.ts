import { api, versions, array, bool, field, int16, int32, string, struct, uuid } from "../Message.ts"

export const Metadata = api({
  key: 3,
  name: "Metadata",
  validVersions: versions("0-12"),
  flexibleFrom: 9,
  request: struct({
    topics: field(array(struct({
      topicId: field(uuid, "10+"),
      name: field(string, "0+", { nullable: "10+" }),
    })), "0+", { nullable: "1+" }),
    allowAutoTopicCreation: field(bool, "4+", { default: true }),
    includeClusterAuthorizedOperations: field(bool, "8-10"),
    includeTopicAuthorizedOperations: field(bool, "8+"),
  }),
  response: struct({
    throttleTimeMs: field(int32, "3+"),
    brokers: field(array(struct({
      nodeId: field(int32),
      host: field(string),
      port: field(int32),
      rack: field(string, "1+", { nullable: "1+", default: null }),
    }))),
    clusterId: field(string, "2+", { nullable: "2+", default: null }),
    controllerId: field(int32, "1+", { default: -1 }),
    topics: field(array(struct({
      errorCode: field(int16),
      name: field(string, "0+", { nullable: "12+" }),
      topicId: field(uuid, "10+"),
      isInternal: field(bool, "1+", { default: false }),
      partitions: field(array(struct({
        errorCode: field(int16),
        partitionIndex: field(int32),
        leaderId: field(int32),
        leaderEpoch: field(int32, "7+", { default: -1 }),
        replicaNodes: field(array(int32)),
        isrNodes: field(array(int32)),
        offlineReplicas: field(array(int32), "5+"),
      }))),
      topicAuthorizedOperations: field(int32, "8+", { default: -2147483648 }),
    }))),
    clusterAuthorizedOperations: field(int32, "8-10", { default: -2147483648 }),
  })
})
