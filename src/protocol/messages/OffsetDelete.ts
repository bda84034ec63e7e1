import { api, versions, array, field, int16, int32, string, struct } from "../Message.ts"

export const OffsetDelete = api({
  key: 47,
  name: "OffsetDelete",
  validVersions: versions("0"),
  flexibleFrom: Infinity,
  request: struct({
    groupId: field(string),
    topics: field(array(struct({
      name: field(string),
      partitions: field(array(struct({
        partitionIndex: field(int32),
      }))),
    }))),
  }),
  response: struct({
    errorCode: field(int16),
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
