import { api, versions, array, field, int16, int32, int64, string, struct } from "../Message.ts"

export const DeleteRecords = api({
  key: 21,
  name: "DeleteRecords",
  validVersions: versions("0-2"),
  flexibleFrom: 2,
  request: struct({
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        offset: field(int64),
      }))),
    }))),
    timeoutMs: field(int32),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
        lowWatermark: field(int64),
        errorCode: field(int16),
      }))),
    }))),
  })
})
