// EndTxn v0-v5: commits or aborts the producer's open transaction. The decision is written to the transaction
// log, then every partition of the transaction gets its marker; the answer comes once they are written (or
// after a few seconds: the outcome is decided either way). A retry of an end that happened succeeds; the other
// end of a completed transaction, or an end without a transaction → 48; a wrong producer id → 49, a fenced
// epoch → 90 (47 before v2), an end under way → 51. v5 (transaction version 2, KIP-890) bumps the epoch at every
// end and answers the producer id and epoch to go on with.
import { Effect } from "effect"
import { retriable } from "../Errors.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { EndTxn } from "../../protocol/messages/EndTxn.ts"
import { TransactionCoordinator } from "../txn/TransactionCoordinator.ts"
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID } from "../txn/Transactions.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(EndTxn, "0-5", (request, context) =>
  Effect.gen(function*() {
    if ((yield* Authorization.current).denied(context.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH }
    }
    const coordinator = yield* TransactionCoordinator
    const producer = { producerId: request.producerId, producerEpoch: request.producerEpoch }
    return yield* coordinator.endTransaction(request.transactionalId, producer, request.committed, context.apiVersion >= 5 ? 2 : 0).pipe(
      Effect.map((r) => ({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, ...r })),
      Effect.catch((e) =>
        Effect.as(
          (retriable(e) ? Effect.logDebug : Effect.logWarning)(`EndTxn ${request.transactionalId}: ${e.message}`),
          {
            throttleTimeMs: 0,
            errorCode: e.code === ErrorCode.PRODUCER_FENCED && context.apiVersion < 2 ? ErrorCode.INVALID_PRODUCER_EPOCH : e.code,
            producerId: NO_PRODUCER_ID,
            producerEpoch: NO_PRODUCER_EPOCH
          }
        )
      )
    )
  }))
