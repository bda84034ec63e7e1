import { api, versions, bool, field, int16, int32, int64, string, struct } from "../Message.ts"

export const EndTxn = api({
  key: 26,
  name: "EndTxn",
  validVersions: versions("0-5"),
  flexibleFrom: 3,
  request: struct({
    transactionalId: field(string),
    producerId: field(int64),
    producerEpoch: field(int16),
    committed: field(bool),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    producerId: field(int64, "5+", { default: -1 }),
    producerEpoch: field(int16, "5+", { default: -1 }),
  })
})
