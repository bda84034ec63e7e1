import { api, versions, field, int16, int32, int64, string, struct } from "../Message.ts"

export const InitProducerId = api({
  key: 22,
  name: "InitProducerId",
  validVersions: versions("0-5"),
  flexibleFrom: 2,
  request: struct({
    transactionalId: field(string, "0+", { nullable: "0+" }),
    transactionTimeoutMs: field(int32),
    producerId: field(int64, "3+", { default: -1 }),
    producerEpoch: field(int16, "3+", { default: -1 }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    producerId: field(int64, "0+", { default: -1 }),
    producerEpoch: field(int16),
  })
})
