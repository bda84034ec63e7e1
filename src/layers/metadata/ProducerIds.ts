// Producer ids reserved durably through the metadata log: a ProducerIds record whose `nextProducerId` is the
// first id not yet reserved. Ids are reserved in blocks of BLOCK_SIZE, as Kafka's controller hands them to
// brokers: one durable metadata write per thousand producers instead of one per producer, so the metadata log
// (replayed at every start) does not grow with each short-lived client. The block is handed out from memory; a
// restart continues from the persisted `nextProducerId`, skipping what was left of the block (ids are 64-bit:
// skipping costs nothing).
import { Effect, Layer, Semaphore } from "effect"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import { ClusterMetadata } from "../../services/metadata/ClusterMetadata.ts"
import { ProducerIds } from "../../services/metadata/ProducerIds.ts"

/** Producer ids reserved per metadata record (Kafka's controller uses blocks of 1000 too). */
export const BLOCK_SIZE = 1000

export const make = Effect.gen(function*() {
  const config = yield* BrokerConfig
  const metadata = yield* ClusterMetadata
  // The unused rest of the current block: ids `next` up to (not including) `end`.
  let next = 0
  let end = 0
  // One allocation at a time: two callers that find the block used up must not both reserve one.
  const lock = yield* Semaphore.make(1)

  /** Reserves the next block durably; the image's `nextProducerId` is where it starts. */
  const reserve = metadata.update((image) =>
    Effect.succeed({
      records: [{
        type: "ProducerIds" as const,
        brokerId: config.nodeId,
        brokerEpoch: -1,
        nextProducerId: image.nextProducerId + BLOCK_SIZE
      }],
      result: image.nextProducerId
    })
  )

  return ProducerIds.of({
    next: lock.withPermit(Effect.gen(function*() {
      if (next >= end) {
        const start = yield* reserve
        next = start
        end = start + BLOCK_SIZE
        yield* Effect.logInfo(`reserved producer ids ${start}..${start + BLOCK_SIZE - 1}`)
      }
      return next++
    }))
  })
})

export const layer = Layer.effect(ProducerIds, make)
