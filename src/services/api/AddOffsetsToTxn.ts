// AddOffsetsToTxn v0-v4: the group's offsets partition (`__consumer_offsets-0`) joins the producer's
// transaction, so that TxnOffsetCommit may write there and the transaction's end settles the offsets. Errors as
// AddPartitionsToTxn: 49, 90 (47 before v2), 51; an empty group id → 24.
import { Effect } from "effect"
import { retriable } from "../Errors.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { AddOffsetsToTxn } from "../../protocol/messages/AddOffsetsToTxn.ts"
import { OFFSETS_PARTITION } from "../group/GroupCoordinator.ts"
import { TransactionCoordinator } from "../txn/TransactionCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(AddOffsetsToTxn, "0-4", (request, context) =>
  Effect.gen(function*() {
    const check = yield* Authorization.current
    if (check.denied(context.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED }
    }
    if (check.denied(context.connection, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED }
    }
    if (request.groupId === "") return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID }
    const coordinator = yield* TransactionCoordinator
    const producer = { producerId: request.producerId, producerEpoch: request.producerEpoch }
    const errorCode = yield* coordinator.addPartitions(request.transactionalId, producer, [OFFSETS_PARTITION]).pipe(
      Effect.as(ErrorCode.NONE as number),
      Effect.catch((e) =>
        Effect.as(
          (retriable(e) ? Effect.logDebug : Effect.logWarning)(`AddOffsetsToTxn ${request.transactionalId}: ${e.message}`),
          e.code === ErrorCode.PRODUCER_FENCED && context.apiVersion < 2 ? ErrorCode.INVALID_PRODUCER_EPOCH : e.code
        )
      )
    )
    return { throttleTimeMs: 0, errorCode }
  }))
