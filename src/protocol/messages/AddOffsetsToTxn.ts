import { api, versions, field, int16, int32, int64, string, struct } from "../Message.ts"

export const AddOffsetsToTxn = api({
  key: 25,
  name: "AddOffsetsToTxn",
  validVersions: versions("0-4"),
  flexibleFrom: 3,
  request: struct({
    transactionalId: field(string),
    producerId: field(int64),
    producerEpoch: field(int16),
    groupId: field(string),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
  })
})
