import { api, versions, array, field, int16, int32, int64, string, struct } from "../Message.ts"

export const ListTransactions = api({
  key: 66,
  name: "ListTransactions",
  validVersions: versions("0-2"),
  flexibleFrom: 0,
  request: struct({
    stateFilters: field(array(string)),
    producerIdFilters: field(array(int64)),
    durationFilter: field(int64, "1+", { default: -1 }),
    // KIP-1152
    transactionalIdPattern: field(string, "2+", { nullable: "2+", default: null }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    unknownStateFilters: field(array(string)),
    transactionStates: field(array(struct({
      transactionalId: field(string),
      producerId: field(int64),
      transactionState: field(string),
    }))),
  })
})
