// DescribeTransactions v0: each transactional id's state, producer id and epoch, timeout, the start of its open
// transaction and its partitions. An unknown id → 105, an empty one → 42.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeTransactions } from "../../protocol/messages/DescribeTransactions.ts"
import { TransactionCoordinator } from "../txn/TransactionCoordinator.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

export const make = handler(DescribeTransactions, "0", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* TransactionCoordinator
    // DESCRIBE on each transactional id, else 53 for it.
    const check = yield* Authorization.current
    const transactionStates = yield* Effect.forEach(request.transactionalIds, (transactionalId) =>
      (check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactionalId)
        ? Effect.fail({ code: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED as number })
        : (coordinator.describe(transactionalId) as Effect.Effect<
          Effect.Success<ReturnType<typeof coordinator.describe>>,
          { readonly code: number }
        >)).pipe(
        Effect.map((d) => {
          const byTopic = new Map<string, Array<number>>()
          for (const tp of d.partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
          return {
            errorCode: ErrorCode.NONE,
            transactionalId,
            transactionState: d.state,
            transactionTimeoutMs: d.timeoutMs,
            transactionStartTimeMs: d.startTimestamp,
            producerId: d.producerId,
            producerEpoch: d.producerEpoch,
            topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions }))
          }
        }),
        Effect.catch((e) =>
          Effect.succeed({
            errorCode: e.code as number,
            transactionalId,
            transactionState: "",
            transactionTimeoutMs: 0,
            transactionStartTimeMs: -1,
            producerId: -1,
            producerEpoch: -1,
            topics: []
          })
        )
      ))
    return { throttleTimeMs: 0, transactionStates }
  }))
