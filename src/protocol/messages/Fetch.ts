import { api, versions, array, field, int16, int32, int64, int8, records, string, struct, tagged, uuid } from "../Message.ts"

export const Fetch = api({
  key: 1,
  name: "Fetch",
  validVersions: versions("4-17"),
  flexibleFrom: 12,
  request: struct({
    clusterId: tagged(0, string, "12+", { nullable: "12+", default: null }),
    replicaId: field(int32, "0-14", { default: -1 }),
    replicaState: tagged(1, struct({
      replicaId: field(int32, "15+", { default: -1 }),
      replicaEpoch: field(int64, "15+", { default: -1 }),
    }), "15+"),
    maxWaitMs: field(int32),
    minBytes: field(int32),
    maxBytes: field(int32, "3+", { default: 2147483647 }),
    isolationLevel: field(int8, "4+", { default: 0 }),
    sessionId: field(int32, "7+", { default: 0 }),
    sessionEpoch: field(int32, "7+", { default: -1 }),
    topics: field(array(struct({
      topic: field(string, "0-12"),
      topicId: field(uuid, "13+"),
      partitions: field(array(struct({
        partition: field(int32),
        currentLeaderEpoch: field(int32, "9+", { default: -1 }),
        fetchOffset: field(int64),
        lastFetchedEpoch: field(int32, "12+", { default: -1 }),
        logStartOffset: field(int64, "5+", { default: -1 }),
        partitionMaxBytes: field(int32),
        replicaDirectoryId: tagged(0, uuid, "17+"),
      }))),
    }))),
    forgottenTopicsData: field(array(struct({
      topic: field(string, "7-12"),
      topicId: field(uuid, "13+"),
      partitions: field(array(int32), "7+"),
    })), "7+"),
    rackId: field(string, "11+", { default: "" }),
  }),
  response: struct({
    throttleTimeMs: field(int32, "1+"),
    errorCode: field(int16, "7+"),
    sessionId: field(int32, "7+", { default: 0 }),
    responses: field(array(struct({
      topic: field(string, "0-12"),
      topicId: field(uuid, "13+"),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        errorCode: field(int16),
        highWatermark: field(int64),
        lastStableOffset: field(int64, "4+", { default: -1 }),
        logStartOffset: field(int64, "5+", { default: -1 }),
        divergingEpoch: tagged(0, struct({
          epoch: field(int32, "12+", { default: -1 }),
          endOffset: field(int64, "12+", { default: -1 }),
        }), "12+"),
        currentLeader: tagged(1, struct({
          leaderId: field(int32, "12+", { default: -1 }),
          leaderEpoch: field(int32, "12+", { default: -1 }),
        }), "12+"),
        snapshotId: tagged(2, struct({
          endOffset: field(int64, "0+", { default: -1 }),
          epoch: field(int32, "0+", { default: -1 }),
        }), "12+"),
        abortedTransactions: field(array(struct({
          producerId: field(int64, "4+"),
          firstOffset: field(int64, "4+"),
        })), "4+", { nullable: "4+" }),
        preferredReadReplica: field(int32, "11+", { default: -1 }),
        records: field(records, "0+", { nullable: "0+" }),
      }))),
    }))),
    nodeEndpoints: tagged(0, array(struct({
      nodeId: field(int32, "16+"),
      host: field(string, "16+"),
      port: field(int32, "16+"),
      rack: field(string, "16+", { nullable: "16+", default: null }),
    })), "16+"),
  })
})
