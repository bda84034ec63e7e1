// DescribeProducers v0: the producers each partition keeps state for (idempotent and transactional): id,
// epoch, last sequence and timestamp, the coordinator epoch of its last marker and the first offset of its open
// transaction (-1: none). Unknown topic or partition → 3.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeProducers } from "../../protocol/messages/DescribeProducers.ts"
import { LogStore } from "../log/LogStore.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { handler } from "./Handler.ts"

export const make = handler(DescribeProducers, "0", (request) =>
  Effect.gen(function*() {
    const store = yield* LogStore
    const image = yield* (yield* ClusterMetadata).image
    const topics = yield* Effect.forEach(request.topics, (t) =>
      Effect.map(
        Effect.forEach(t.partitionIndexes, (partitionIndex) => {
          const failed = (errorCode: number, errorMessage: string | null) => ({ partitionIndex, errorCode, errorMessage, activeProducers: [] })
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
