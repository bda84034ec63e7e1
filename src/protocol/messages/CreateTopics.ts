import { api, versions, array, bool, field, int16, int32, int8, string, struct, tagged, uuid } from "../Message.ts"

export const CreateTopics = api({
  key: 19,
  name: "CreateTopics",
  validVersions: versions("0-7"),
  flexibleFrom: 5,
  request: struct({
    topics: field(array(struct({
      name: field(string),
      numPartitions: field(int32),
      replicationFactor: field(int16),
      assignments: field(array(struct({
        partitionIndex: field(int32),
        brokerIds: field(array(int32)),
      }))),
      configs: field(array(struct({
        name: field(string),
        value: field(string, "0+", { nullable: "0+" }),
      }))),
    }))),
    timeoutMs: field(int32, "0+", { default: 60000 }),
    validateOnly: field(bool, "1+", { default: false }),
  }),
  response: struct({
    throttleTimeMs: field(int32, "2+"),
    topics: field(array(struct({
      name: field(string),
      topicId: field(uuid, "7+"),
      errorCode: field(int16),
      errorMessage: field(string, "1+", { nullable: "0+" }),
      topicConfigErrorCode: tagged(0, int16, "5+"),
      numPartitions: field(int32, "5+", { default: -1 }),
      replicationFactor: field(int16, "5+", { default: -1 }),
      configs: field(array(struct({
        name: field(string, "5+"),
        value: field(string, "5+", { nullable: "5+" }),
        readOnly: field(bool, "5+"),
        configSource: field(int8, "5+", { default: -1 }),
        isSensitive: field(bool, "5+"),
      })), "5+", { nullable: "5+" }),
    }))),
  })
})
