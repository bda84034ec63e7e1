import { api, versions, array, bytes, field, int16, int32, int64, string, struct, tagged } from "../Message.ts"

export const Produce = api({
  key: 0,
  name: "Produce",
  validVersions: versions("0-11"),
  flexibleFrom: 9,
  request: struct({
    transactionalId: field(string, "3+", { nullable: "3+", default: null }),
    acks: field(int16),
    timeoutMs: field(int32),
    topicData: field(array(struct({
      name: field(string),
      partitionData: field(array(struct({
        index: field(int32),
        records: field(bytes, "0+", { nullable: "0+" }),
      }))),
    }))),
  }),
  response: struct({
    responses: field(array(struct({
      name: field(string),
      partitionResponses: field(array(struct({
        index: field(int32),
        errorCode: field(int16),
        baseOffset: field(int64),
        logAppendTimeMs: field(int64, "2+", { default: -1 }),
        logStartOffset: field(int64, "5+", { default: -1 }),
        recordErrors: field(array(struct({
          batchIndex: field(int32, "8+"),
          batchIndexErrorMessage: field(string, "8+", { nullable: "8+", default: null }),
        })), "8+"),
        errorMessage: field(string, "8+", { nullable: "8+", default: null }),
        currentLeader: tagged(0, struct({
          leaderId: field(int32, "10+", { default: -1 }),
          leaderEpoch: field(int32, "10+", { default: -1 }),
        }), "10+"),
      }))),
    }))),
    throttleTimeMs: field(int32, "1+", { default: 0 }),
    nodeEndpoints: tagged(0, array(struct({
      nodeId: field(int32, "10+"),
      host: field(string, "10+"),
      port: field(int32, "10+"),
      rack: field(string, "10+", { nullable: "10+", default: null }),
    })), "10+"),
  })
})
