import { api, versions, array, field, int16, int32, int64, string, struct } from "../Message.ts"

export const OffsetForLeaderEpoch = api({
  key: 23,
  name: "OffsetForLeaderEpoch",
  validVersions: versions("2-4"),
  flexibleFrom: 4,
  request: struct({
    replicaId: field(int32, "3+", { default: -2 }),
    topics: field(array(struct({
      topic: field(string),
      partitions: field(array(struct({
        partition: field(int32),
        currentLeaderEpoch: field(int32, "2+", { default: -1 }),
        leaderEpoch: field(int32),
      }))),
    }))),
  }),
  response: struct({
    throttleTimeMs: field(int32, "2+"),
    topics: field(array(struct({
      topic: field(string),
      partitions: field(array(struct({
        errorCode: field(int16),
        partition: field(int32),
        leaderEpoch: field(int32, "1+", { default: -1 }),
        endOffset: field(int64, "0+", { default: -1 }),
      }))),
    }))),
  })
})
