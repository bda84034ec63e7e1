import { api, versions, array, field, int16, int32, int64, int8, string, struct } from "../Message.ts"

export const ListOffsets = api({
  key: 2,
  name: "ListOffsets",
  validVersions: versions("0-10"),
  flexibleFrom: 6,
  request: struct({
    replicaId: field(int32),
    isolationLevel: field(int8, "2+"),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        currentLeaderEpoch: field(int32, "4+", { default: -1 }),
        timestamp: field(int64),
        maxNumOffsets: field(int32, "0", { default: 1 }),
      }))),
    }))),
    timeoutMs: field(int32, "10+"),
  }),
  response: struct({
    throttleTimeMs: field(int32, "2+"),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        errorCode: field(int16),
        oldStyleOffsets: field(array(int64), "0"),
        timestamp: field(int64, "1+", { default: -1 }),
        offset: field(int64, "1+", { default: -1 }),
        leaderEpoch: field(int32, "4+", { default: -1 }),
      }))),
    }))),
  })
})
