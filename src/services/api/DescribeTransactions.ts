// DescribeTransactions v0: each transactional id's state, producer id and epoch, timeout, the start of its open
// transaction and its partitions. An unknown id → 105, an empty one → 42.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeTransactions } from "../../protocol/messages/DescribeTransactions.ts"
import { TransactionCoordinator } from "../txn/TransactionCoordinator.ts"
import { handler } from "./Handler.ts"

export const make = handler(DescribeTransactions, "0", (request) =>
  Effect.gen(function*() {
    const coordinator = yield* TransactionCoordinator
    const transactionStates = yield* Effect.forEach(request.transactionalIds, (transactionalId) =>
      coordinator.describe(transactionalId).pipe(
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
