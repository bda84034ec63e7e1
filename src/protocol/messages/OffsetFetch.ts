import { api, versions, array, bool, field, int16, int32, int64, string, struct } from "../Message.ts"

export const OffsetFetch = api({
  key: 9,
  name: "OffsetFetch",
  validVersions: versions("0-9"),
  flexibleFrom: 6,
  request: struct({
    groupId: field(string, "0-7"),
    topics: field(array(struct({
      name: field(string, "0-7"),
      partitionIndexes: field(array(int32), "0-7"),
    })), "0-7", { nullable: "2-7" }),
    groups: field(array(struct({
      groupId: field(string, "8+"),
      memberId: field(string, "9+", { nullable: "9+", default: null }),
      memberEpoch: field(int32, "9+", { default: -1 }),
      topics: field(array(struct({
        name: field(string, "8+"),
        partitionIndexes: field(array(int32), "8+"),
      })), "8+", { nullable: "8+" }),
    })), "8+"),
    requireStable: field(bool, "7+", { default: false }),
  }),
  response: struct({
    throttleTimeMs: field(int32, "3+"),
    topics: field(array(struct({
      name: field(string, "0-7"),
      partitions: field(array(struct({
        partitionIndex: field(int32, "0-7"),
        committedOffset: field(int64, "0-7"),
        committedLeaderEpoch: field(int32, "5-7", { default: -1 }),
        metadata: field(string, "0-7", { nullable: "0-7" }),
        errorCode: field(int16, "0-7"),
      })), "0-7"),
    })), "0-7"),
    errorCode: field(int16, "2-7", { default: 0 }),
    groups: field(array(struct({
      groupId: field(string, "8+"),
      topics: field(array(struct({
        name: field(string, "8+"),
        partitions: field(array(struct({
          partitionIndex: field(int32, "8+"),
          committedOffset: field(int64, "8+"),
          committedLeaderEpoch: field(int32, "8+", { default: -1 }),
          metadata: field(string, "8+", { nullable: "8+" }),
          errorCode: field(int16, "8+"),
        })), "8+"),
      })), "8+"),
      errorCode: field(int16, "8+", { default: 0 }),
    })), "8+"),
  })
})
