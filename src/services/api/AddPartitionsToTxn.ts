// AddPartitionsToTxn v0-v5: partitions join the producer's transaction (starting it when none is open), written
// to the transaction log before the answer. v0-v3 carry one transaction; v4+ (from brokers) several, each
// possibly `verify_only` (is the partition in the transaction already: 0, else 120). A partition that does not
// exist → 3 and the others of that transaction 55 (nothing is added); a wrong producer id → 49, a fenced epoch
// → 90 (47 before v2), a transaction completing → 51.
import { Effect } from "effect"
import { retriable } from "../Errors.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { AddPartitionsToTxn } from "../../protocol/messages/AddPartitionsToTxn.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import type { TopicPartition } from "../log/LogStore.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { TransactionCoordinator } from "../txn/TransactionCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

type Response = ResponseOf<typeof AddPartitionsToTxn>
type TopicResult = Response["resultsByTopicV3AndBelow"][number]

interface Transaction {
  readonly transactionalId: string
  readonly producerId: number
  readonly producerEpoch: number
  readonly verifyOnly: boolean
  readonly topics: ReadonlyArray<{ readonly name: string; readonly partitions: ReadonlyArray<number> }>
}

export const make = handler(AddPartitionsToTxn, "0-5", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* TransactionCoordinator
    const image = yield* (yield* ClusterMetadata).image
    const version = context.apiVersion

    const results = (t: Transaction, code: (tp: TopicPartition) => number): Array<TopicResult> =>
      t.topics.map((topic) => ({
        name: topic.name,
        resultsByPartition: topic.partitions.map((partition) => ({ partitionIndex: partition, partitionErrorCode: code({ topic: topic.name, partition }) }))
      }))

    // As Kafka: WRITE on the transactional id (else 53 everywhere), WRITE on each topic (else 29 for it, the
    // others not attempted).
    const check = yield* Authorization.current
    const handle = (t: Transaction) =>
      Effect.gen(function*() {
        if (check.denied(context.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, t.transactionalId)) {
          return results(t, () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        }
        const deniedTopic = (name: string) => check.denied(context.connection, AclOperation.WRITE, ResourceType.TOPIC, name)
        if (t.topics.some((topic) => deniedTopic(topic.name))) {
          return results(t, (tp) => (deniedTopic(tp.topic) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.OPERATION_NOT_ATTEMPTED))
        }
        const partitions = t.topics.flatMap((topic) => topic.partitions.map((partition) => ({ topic: topic.name, partition })))
        const known = (tp: TopicPartition) => image.topics.get(tp.topic)?.partitions[tp.partition] !== undefined
        if (!partitions.every(known)) {
          return results(t, (tp) => (known(tp) ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))
        }
        const producer = { producerId: t.producerId, producerEpoch: t.producerEpoch }
        if (t.verifyOnly) {
          const codes = new Map<string, number>()
          for (const tp of partitions) {
            const r = yield* Effect.result(coordinator.verify(t.transactionalId, producer, tp))
            codes.set(`${tp.topic}\u0000${tp.partition}`, r._tag === "Success" ? ErrorCode.NONE : r.failure._tag === "InvalidTxnState" ? ErrorCode.TRANSACTION_ABORTABLE : r.failure.code)
          }
          return results(t, (tp) => codes.get(`${tp.topic}\u0000${tp.partition}`)!)
        }
        const code = yield* coordinator.addPartitions(t.transactionalId, producer, partitions).pipe(
          Effect.as(ErrorCode.NONE as number),
          Effect.catch((e) =>
            Effect.as(
              (retriable(e) ? Effect.logDebug : Effect.logWarning)(`AddPartitionsToTxn ${t.transactionalId}: ${e.message}`),
              e.code === ErrorCode.PRODUCER_FENCED && version < 2 ? ErrorCode.INVALID_PRODUCER_EPOCH : e.code
            )
          )
        )
        return results(t, () => code)
      })

    if (version >= 4) {
      const resultsByTransaction = yield* Effect.forEach(request.transactions, (t) =>
        Effect.map(handle(t), (topicResults) => ({ transactionalId: t.transactionalId, topicResults })))
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction, resultsByTopicV3AndBelow: [] }
    }
    const resultsByTopicV3AndBelow = yield* handle({
      transactionalId: request.v3AndBelowTransactionalId,
      producerId: request.v3AndBelowProducerId,
      producerEpoch: request.v3AndBelowProducerEpoch,
      verifyOnly: false,
      topics: request.v3AndBelowTopics
    })
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction: [], resultsByTopicV3AndBelow }
  }))
