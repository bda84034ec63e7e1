import { api, versions, array, field, int16, int32, string, struct, uuid } from "../Message.ts"

export const DeleteTopics = api({
  key: 20,
  name: "DeleteTopics",
  validVersions: versions("0-6"),
  flexibleFrom: 4,
  request: struct({
    topics: field(array(struct({
      name: field(string, "6+", { nullable: "6+", default: null }),
      topicId: field(uuid, "6+"),
    })), "6+"),
    topicNames: field(array(string), "0-5"),
    timeoutMs: field(int32),
  }),
  response: struct({
    throttleTimeMs: field(int32, "1+"),
    responses: field(array(struct({
      name: field(string, "0+", { nullable: "6+" }),
      topicId: field(uuid, "6+"),
      errorCode: field(int16),
      errorMessage: field(string, "5+", { nullable: "5+", default: null }),
    }))),
  })
})
