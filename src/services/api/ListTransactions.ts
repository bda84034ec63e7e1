// ListTransactions v0-v2: the transactional ids the coordinator knows, filtered by state names (unknown names
// are answered back), producer ids, (v1+) a minimum running time in ms, and (v2+) a regular expression the id
// matches; a pattern that is not one → 42.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ListTransactions } from "../../protocol/messages/ListTransactions.ts"
import { TransactionCoordinator } from "../txn/TransactionCoordinator.ts"
import { handler } from "./Handler.ts"

export const make = handler(ListTransactions, "0-2", (request) =>
  Effect.gen(function*() {
    const coordinator = yield* TransactionCoordinator
    return yield* coordinator.list({
      states: request.stateFilters,
      producerIds: request.producerIdFilters,
      minDurationMs: request.durationFilter,
      pattern: request.transactionalIdPattern
    }).pipe(
      Effect.map((r) => ({
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        unknownStateFilters: [...r.unknownStates],
        transactionStates: r.transactions.map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: t.state }))
      })),
      Effect.catch((e) => Effect.succeed({ throttleTimeMs: 0, errorCode: e.code as number, unknownStateFilters: [], transactionStates: [] }))
    )
  }))
