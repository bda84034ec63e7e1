import { api, versions, array, field, int16, int32, int64, string, struct } from "../Message.ts"

// v5 (KIP-890 part 2) is v4 on the wire; only the broker's checks differ.
export const TxnOffsetCommit = api({
  key: 28,
  name: "TxnOffsetCommit",
  validVersions: versions("0-5"),
  flexibleFrom: 3,
  request: struct({
    transactionalId: field(string),
    groupId: field(string),
    producerId: field(int64),
    producerEpoch: field(int16),
    generationId: field(int32, "3+", { default: -1 }),
    memberId: field(string, "3+", { default: "" }),
    groupInstanceId: field(string, "3+", { nullable: "3+", default: null }),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        committedOffset: field(int64),
        committedLeaderEpoch: field(int32, "2+", { default: -1 }),
        committedMetadata: field(string, "0+", { nullable: "0+" }),
      }))),
    }))),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        errorCode: field(int16),
      }))),
    }))),
  })
})
