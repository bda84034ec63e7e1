import { api, versions, array, field, int16, int32, int64, string, struct } from "../Message.ts"

export const OffsetCommit = api({
  key: 8,
  name: "OffsetCommit",
  validVersions: versions("0-9"),
  flexibleFrom: 8,
  request: struct({
    groupId: field(string),
    generationIdOrMemberEpoch: field(int32, "1+", { default: -1 }),
    memberId: field(string, "1+"),
    groupInstanceId: field(string, "7+", { nullable: "7+", default: null }),
    retentionTimeMs: field(int64, "2-4", { default: -1 }),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        committedOffset: field(int64),
        committedLeaderEpoch: field(int32, "6+", { default: -1 }),
        commitTimestamp: field(int64, "1", { default: -1 }),
        committedMetadata: field(string, "0+", { nullable: "0+" }),
      }))),
    }))),
  }),
  response: struct({
    throttleTimeMs: field(int32, "3+"),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        errorCode: field(int16),
      }))),
    }))),
  })
})
