// InitProducerId v0-v5, for idempotent producers only. A null transactional id gets a new producer id with
// epoch 0; the producer id and epoch a v3+ request carries are then ignored (clients send -1/-1, or 0/0 as
// @platformatic/kafka does), except that exactly one of them being -1 is an invalid request (42), as in Kafka.
// A transactional id → 53 with a log line: there is no transaction coordinator; an empty one → 42, as Kafka.
//
// Producer ids must never be handed out twice, restarts included, so they are reserved durably through
// ClusterMetadata.update as a ProducerIds record whose `nextProducerId` is the first id not yet reserved.
// Ids are reserved in blocks of BLOCK_SIZE, as Kafka's controller hands them to brokers: one durable metadata
// write per thousand producers instead of one per producer, so the metadata log (replayed at every start) does
// not grow with each short-lived client. The block is handed out from memory; a restart continues from the
// persisted `nextProducerId`, skipping what was left of the block (ids are 64-bit: skipping costs nothing).
import { Effect, Semaphore } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { InitProducerId } from "../../protocol/messages/InitProducerId.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { InvalidRequest, TransactionsUnsupported } from "../Errors.ts"
import { handler } from "./Handler.ts"

type Response = ResponseOf<typeof InitProducerId>

/** Producer ids reserved per metadata record (Kafka's controller uses blocks of 1000 too). */
export const BLOCK_SIZE = 1000

/** The unused rest of the current block: ids `next` up to (not including) `end`. */
interface Block {
  next: number
  end: number
  readonly lock: Semaphore.Semaphore
}

// One block per broker, keyed by its ClusterMetadata service: a handler is a plain value shared by every
// broker built in the process (tests build several, and a restart is a new one), and a new broker must start
// from the persisted next id, never from an earlier broker's block.
const blocks = new WeakMap<object, Block>()

const blockOf = (metadata: object): Block => {
  let block = blocks.get(metadata)
  if (block === undefined) {
    block = { next: 0, end: 0, lock: Semaphore.makeUnsafe(1) }
    blocks.set(metadata, block)
  }
  return block
}

const NO_PRODUCER_ID = -1
const NO_PRODUCER_EPOCH = -1

export const make = handler(InitProducerId, "0-5", (request) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const metadata = yield* ClusterMetadata
    const block = blockOf(metadata)

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

    // One allocation at a time: two requests that find the block used up must not both reserve one.
    const allocate = block.lock.withPermit(Effect.gen(function*() {
      if (block.next >= block.end) {
        const start = yield* reserve
        block.next = start
        block.end = start + BLOCK_SIZE
        yield* Effect.logInfo(`InitProducerId: reserved producer ids ${start}..${start + BLOCK_SIZE - 1}`)
      }
      return block.next++
    }))

    const init = Effect.gen(function*() {
      if (request.transactionalId !== null) {
        return yield* request.transactionalId === ""
          ? new InvalidRequest({ detail: "empty transactional id" })
          : new TransactionsUnsupported({ transactionalId: request.transactionalId })
      }
      if ((request.producerId === NO_PRODUCER_ID) !== (request.producerEpoch === NO_PRODUCER_EPOCH)) {
        return yield* new InvalidRequest({
          detail: `producer id ${request.producerId} with epoch ${request.producerEpoch}: both or neither must be -1`
        })
      }
      return yield* allocate
    })

    return yield* init.pipe(
      Effect.map((producerId): Response => ({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 })),
      Effect.catch((e) =>
        Effect.as(
          Effect.logWarning(`InitProducerId refused (error ${e.code}): ${e.message}`),
          { throttleTimeMs: 0, errorCode: e.code, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH }
        )
      )
    )
  }))
