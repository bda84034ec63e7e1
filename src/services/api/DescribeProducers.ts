// DescribeProducers v0: the producers each partition keeps state for (idempotent and transactional): id,
// epoch, last sequence and timestamp, the coordinator epoch of its last marker and the first offset of its open
// transaction (-1: none). Unknown topic or partition → 3.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeProducers } from "../../protocol/messages/DescribeProducers.ts"
import { LogStore } from "../log/LogStore.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

export const make = handler(DescribeProducers, "0", (request, context) =>
  Effect.gen(function*() {
    // READ on each topic, else 29 for its partitions.
    const check = yield* Authorization.current
    const store = yield* LogStore
    const image = yield* (yield* ClusterMetadata).image
    const topics = yield* Effect.forEach(request.topics, (t) =>
      Effect.map(
        Effect.forEach(t.partitionIndexes, (partitionIndex) => {
          const failed = (errorCode: number, errorMessage: string | null) => ({ partitionIndex, errorCode, errorMessage, activeProducers: [] })
          if (check.denied(context.connection, AclOperation.READ, ResourceType.TOPIC, t.name)) {
            return Effect.succeed(failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED, null))
          }
          if (image.topics.get(t.name)?.partitions[partitionIndex] === undefined) {
            return Effect.succeed(failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null))
          }
          return store.producers({ topic: t.name, partition: partitionIndex }).pipe(
            Effect.map((producers) => ({
              partitionIndex,
              errorCode: ErrorCode.NONE,
              errorMessage: null,
              activeProducers: producers.map((p) => ({
                producerId: p.producerId,
                producerEpoch: p.producerEpoch,
                lastSequence: p.lastSequence,
                lastTimestamp: p.lastTimestamp,
                coordinatorEpoch: p.coordinatorEpoch,
                currentTxnStartOffset: p.currentTxnStartOffset
              }))
            })),
            Effect.catch((e) => Effect.succeed(failed(e.code, e.message)))
          )
        }),
        (partitions) => ({ name: t.name, partitions })
      ))
    return { throttleTimeMs: 0, topics }
  }))
