import { api, versions, array, field, int16, int32, int64, string, struct, uint16, uuid } from "../Message.ts"

const ReplicaState = struct({
  replicaId: field(int32),
  replicaDirectoryId: field(uuid, "2+"),
  logEndOffset: field(int64),
  lastFetchTimestamp: field(int64, "1+", { default: -1 }),
  lastCaughtUpTimestamp: field(int64, "1+", { default: -1 }),
})

export const DescribeQuorum = api({
  key: 55,
  name: "DescribeQuorum",
  validVersions: versions("0-2"),
  flexibleFrom: 0,
  request: struct({
    topics: field(array(struct({
      topicName: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
      }))),
    }))),
  }),
  response: struct({
    errorCode: field(int16),
    errorMessage: field(string, "2+", { nullable: "2+", default: null }),
    topics: field(array(struct({
      topicName: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        errorCode: field(int16),
        errorMessage: field(string, "2+", { nullable: "2+", default: null }),
        leaderId: field(int32),
        leaderEpoch: field(int32),
        highWatermark: field(int64),
        currentVoters: field(array(ReplicaState)),
        observers: field(array(ReplicaState)),
      }))),
    }))),
    nodes: field(array(struct({
      nodeId: field(int32),
      listeners: field(array(struct({
        name: field(string),
        host: field(string),
        port: field(uint16),
      }))),
    })), "2+"),
  })
})
