import { api, versions, array, bool, field, int16, int32, int64, string, struct } from "../Message.ts"

export const DescribeLogDirs = api({
  key: 35,
  name: "DescribeLogDirs",
  validVersions: versions("1-4"),
  flexibleFrom: 2,
  request: struct({
    topics: field(array(struct({
      topic: field(string),
      partitions: field(array(int32)),
    })), "0+", { nullable: "0+" }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16, "3+"),
    results: field(array(struct({
      errorCode: field(int16),
      logDir: field(string),
      topics: field(array(struct({
        name: field(string),
        partitions: field(array(struct({
          partitionIndex: field(int32),
          partitionSize: field(int64),
          offsetLag: field(int64),
          isFutureKey: field(bool),
        }))),
      }))),
      totalBytes: field(int64, "4+", { default: -1 }),
      usableBytes: field(int64, "4+", { default: -1 }),
    }))),
  })
})
