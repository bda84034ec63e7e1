// Where a small request's microseconds go inside the broker, without the kernel: single-record Produce requests
// (100-byte values, 8 partitions) over the in-memory file system, timed at three depths of the same stack:
//   append     LogStore.append alone (the partition log: producer checks, offsets, segment write, indexes)
//   handler    the Produce handler (decoded request → response: validation, CRC, authorization, append)
//   pipeline   the whole connection (services/network/Connection.ts): frames read from an in-memory socket,
//              decoded, dispatched, answered and written, one after another as one connection's requests are
// The differences are each layer's own cost. Each depth runs a few rounds over a fresh broker; the best round
// is shown. Run with --cpu-prof to see the functions: node --cpu-prof bench/pipeline.ts.
//
//   npm run bench:pipeline [-- --requests 50000 --rounds 3]
import { Effect, Layer, Logger } from "effect"
import * as Socket from "effect/socket/Socket"
import { parseArgs } from "node:util"
import { performance } from "node:perf_hooks"
import * as Broker from "../src/layers/Broker.ts"
import * as MemoryFileSystem from "../src/layers/fs/MemoryFileSystem.ts"
import { requestFrame } from "../src/protocol/Frames.ts"
import { Produce } from "../src/protocol/messages/Produce.ts"
import { bootstrapRecords, topicRecords } from "../src/protocol/MetadataRecords.ts"
import { encodeBatch, readHeader } from "../src/protocol/RecordBatch.ts"
import { make as produceHandler } from "../src/services/api/Produce.ts"
import { BrokerConfig } from "../src/services/config/BrokerConfig.ts"
import { LogStore } from "../src/services/log/LogStore.ts"
import { ClusterMetadata } from "../src/services/metadata/ClusterMetadata.ts"
import { serveConnection } from "../src/services/network/Connection.ts"

const { values: flags } = parseArgs({
  options: { requests: { type: "string", default: "50000" }, rounds: { type: "string", default: "3" }, wide: { type: "boolean", default: false } }
})
const ROUNDS = Number(flags.rounds)
/** --wide: scenario 3's requests instead, a 1 KiB record for each of 1,000 partitions (figures per partition). */
const WIDE = flags.wide
const PARTITIONS = WIDE ? 1000 : 8
const N = WIDE ? Math.max(1, Math.round(Number(flags.requests) / 50)) : Number(flags.requests)
const value = new Uint8Array(WIDE ? 1024 : 100).fill(120)
const connection = { id: 1, localHost: "127.0.0.1", localPort: 9092, remote: "bench" }

/** A fresh broker's services over an in-memory file system, with the topic. */
const broker = () =>
  Broker.services(Layer.mergeAll(
    MemoryFileSystem.layerWith(MemoryFileSystem.make()),
    BrokerConfig.layerFrom({ "node.id": "1", "log.dirs": "/data", "listeners": "PLAINTEXT://:9092" })
  )).pipe(Layer.fresh)

const withTopic = Effect.flatMap(ClusterMetadata, (m) =>
  m.update(() => Effect.succeed({ records: [...bootstrapRecords(), ...topicRecords("t", "00000000-0000-4000-8000-0000000000b1", PARTITIONS, 1)], result: undefined })))

/** Batches made up front (offsets are patched into them in place, so each round gets its own). */
const batches = () => Array.from({ length: N }, () => encodeBatch([{ key: null, value }]))

/** A wide request's batches: one per partition. */
const wideBatches = () => Array.from({ length: PARTITIONS }, () => encodeBatch([{ key: null, value }]))

const request = (i: number, records: Uint8Array) => ({
  transactionalId: null,
  acks: 1,
  timeoutMs: 30_000,
  topicData: [{
    name: "t",
    partitionData: WIDE ? wideBatches().map((records, index) => ({ index, records })) : [{ index: i % PARTITIONS, records }]
  }]
})

/** An in-memory socket whose reads are `frames`, then a clean close; writes are counted. */
const memorySocket = (frames: ReadonlyArray<Uint8Array>) => {
  let next = 0
  let answers = 0
  const socket = Socket.make({
    reader: Effect.succeed({
      pull: Effect.suspend(() =>
        next < frames.length
          ? Effect.succeed([frames[next++]!] as const)
          : Effect.fail(new Socket.SocketError({ reason: new Socket.SocketCloseError({ code: 1000 }) }))
      ),
      upgrade: Socket.SocketUpgradeError.unsupported
    }),
    writer: Effect.succeed({
      write: () => Effect.sync(() => void answers++),
      writeAll: () => Effect.sync(() => void answers++)
    })
  })
  return { socket, answers: () => answers }
}

const depths: Record<string, () => Effect.Effect<void, unknown, any>> = {
  append: () =>
    Effect.gen(function*() {
      const store = yield* LogStore
      if (WIDE) {
        const requests = Array.from({ length: N }, () => wideBatches().map((batch, partition) => ({ tp: { topic: "t", partition }, batch, header: readHeader(batch) })))
        yield* measure("append", Effect.forEach(requests, store.appendAll, { discard: true }))
        return
      }
      const bs = batches()
      yield* measure("append", Effect.forEach(bs, (b, i) => store.append({ topic: "t", partition: i % PARTITIONS }, b, readHeader(b)), { discard: true }))
    }),
  handler: () =>
    Effect.gen(function*() {
      const requests = batches().map((b, i) => request(i, b))
      const context = { apiVersion: 9, correlationId: 1, clientId: "bench", connection }
      yield* measure("handler", Effect.forEach(requests, (r) => produceHandler.handle(r as never, context), { discard: true }))
    }),
  pipeline: () =>
    Effect.gen(function*() {
      const frames = batches().map((b, i) => requestFrame(Produce, 9, request(i, b) as never, i, "bench"))
      const { socket, answers } = memorySocket(frames)
      yield* measure("pipeline", serveConnection(socket, connection))
      if (answers() !== N) throw new Error(`${answers()} answers to ${N} requests`)
    })
}

const best = new Map<string, number>()
const measure = (name: string, run: Effect.Effect<unknown, unknown, any>) =>
  Effect.gen(function*() {
    const started = performance.now()
    yield* run
    const us = ((performance.now() - started) * 1000) / N / (WIDE ? PARTITIONS : 1)
    best.set(name, Math.min(best.get(name) ?? Infinity, us))
  })

for (let round = 0; round < ROUNDS; round++) {
  for (const [name, depth] of Object.entries(depths)) {
    await Effect.runPromise(Effect.andThen(withTopic, depth()).pipe(
      Effect.scoped,
      Effect.provide(broker()),
      Effect.provide(Logger.layer([]))
    ) as Effect.Effect<void>)
    process.stderr.write(`round ${round + 1} ${name}: ${(best.get(name) ?? 0).toFixed(1)} µs\n`)
  }
}
const [a, h, p] = ["append", "handler", "pipeline"].map((n) => best.get(n)!) as [number, number, number]
console.log(WIDE
  ? `${N.toLocaleString("en")} Produce requests of a 1 KiB record for each of ${PARTITIONS} partitions, in-memory file system; best of ${ROUNDS} rounds, µs per partition:`
  : `${N.toLocaleString("en")} single-record Produce requests, ${PARTITIONS} partitions, in-memory file system; best of ${ROUNDS} rounds, µs per request:`)
console.log(`  append    ${a.toFixed(1).padStart(6)}   the partition log`)
console.log(`  handler   ${h.toFixed(1).padStart(6)}   (+${(h - a).toFixed(1)}: the Produce handler's own)`)
console.log(`  pipeline  ${p.toFixed(1).padStart(6)}   (+${(p - h).toFixed(1)}: framing, decoding, dispatch, encoding, writing)`)
