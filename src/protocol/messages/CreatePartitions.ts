import { api, versions, array, bool, field, int16, int32, string, struct } from "../Message.ts"

export const CreatePartitions = api({
  key: 37,
  name: "CreatePartitions",
  validVersions: versions("0-3"),
  flexibleFrom: 2,
  request: struct({
    topics: field(array(struct({
      name: field(string),
      count: field(int32),
      assignments: field(array(struct({
        brokerIds: field(array(int32)),
      })), "0+", { nullable: "0+" }),
    }))),
    timeoutMs: field(int32),
    validateOnly: field(bool),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    results: field(array(struct({
      name: field(string),
      errorCode: field(int16),
      errorMessage: field(string, "0+", { nullable: "0+", default: null }),
    }))),
  })
})
