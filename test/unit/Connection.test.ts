// The connection pipeline over an in-memory socket: framing whatever the chunking, responses in request order,
// one span per request, no response for acks=0, connections taking turns, and bad input ending the connection.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Tracer } from "effect"
import * as Socket from "effect/socket/Socket"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { concat } from "../../src/protocol/Bytes.ts"
import { ApiVersions } from "../../src/protocol/messages/ApiVersions.ts"
import { Fetch } from "../../src/protocol/messages/Fetch.ts"
import { Metadata } from "../../src/protocol/messages/Metadata.ts"
import { Produce } from "../../src/protocol/messages/Produce.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import { serveConnection } from "../../src/services/network/Connection.ts"
import { Framer, FrameTooLarge } from "../../src/services/network/Framer.ts"
import { RequestBudget } from "../../src/services/network/RequestBudget.ts"
import { LogStore } from "../../src/services/log/LogStore.ts"
import { decodeResponse, RawClient } from "../../src/client/RawClient.ts"
import { withLogs } from "../support/Logs.ts"
import * as TestLayers from "../support/TestLayers.ts"
import { memorySocket } from "../support/MemorySocket.ts"


/** Splits every response into its frames (4-byte size + body). */
const frames = (written: ReadonlyArray<Uint8Array>): Array<Uint8Array> =>
  written.map((w) => {
    const size = new DataView(w.buffer, w.byteOffset).getInt32(0)
    assert.strictEqual(size, w.length - 4, "each write holds exactly one whole response")
    return w.subarray(4)
  })

const connection = { id: 1, localHost: "127.0.0.1", localPort: 9092, remote: "test:1", principal: "User:ANONYMOUS" }
const versionsRequest = { clientSoftwareName: "t", clientSoftwareVersion: "1" }
const metadataAll = { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }

const serve = (chunks: ReadonlyArray<Uint8Array>, properties: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const { socket, written } = memorySocket(chunks)
    yield* serveConnection(socket, connection)
    return frames(written)
  }).pipe(Effect.provide(TestLayers.layer(MemoryFileSystem.make(), { topics: { orders: 2 }, properties })))

describe("Framer", () => {
  it("reassembles frames split at every byte and splits frames sharing a chunk", () => {
    const a = RawClient.encode(ApiVersions, 0, versionsRequest, 1)
    const b = RawClient.encode(Metadata, 1, metadataAll, 2)
    const all = concat([a, b, a])
    const byByte = new Framer({ limit: 1 << 20 })
    const out = [...all].flatMap((byte) => byByte.push([new Uint8Array([byte])]))
    // Each frame's size is announced once while its bytes arrive, then the frame follows.
    const partial = (frame: Uint8Array) => ({ _tag: "PartialFrame", size: frame.length - 4 })
    assert.deepStrictEqual(out, [partial(a), a.subarray(4), partial(b), b.subarray(4), partial(a), a.subarray(4)])
    assert.deepStrictEqual(new Framer({ limit: 1 << 20 }).push([all]), [a.subarray(4), b.subarray(4), a.subarray(4)])
  })

  it("reports a frame above the limit, or a negative size, instead of buffering it", () => {
    const size = new Uint8Array([0, 0, 1, 0])
    assert.instanceOf(new Framer({ limit: 255 }).push([size])[0], FrameTooLarge)
    assert.instanceOf(new Framer({ limit: 255 }).push([new Uint8Array([0xff, 0xff, 0xff, 0xfe])])[0], FrameTooLarge)
    assert.deepStrictEqual(new Framer({ limit: 256 }).push([size]), [{ _tag: "PartialFrame", size: 256 }])
  })

  it("passes a zero-size frame on whole, even at the end of a read (the request is then malformed)", () => {
    const framer = new Framer({ limit: 256 })
    assert.deepStrictEqual(framer.push([new Uint8Array([0, 0, 0, 0])]), [new Uint8Array(0)])
    assert.deepStrictEqual(framer.push([new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0])]), [new Uint8Array(0), new Uint8Array(0)])
  })
})

describe("RequestBudget", () => {
  it.effect("takes at once while bytes are left, then makes takers wait in order until bytes come back", () =>
    Effect.gen(function*() {
      const budget = new RequestBudget(100)
      assert.isTrue(budget.tryTake(60))
      assert.isFalse(budget.tryTake(50))
      const order: Array<string> = []
      const a = yield* Effect.forkChild(Effect.andThen(budget.take(50), Effect.sync(() => order.push("a"))))
      const b = yield* Effect.forkChild(Effect.andThen(budget.take(10), Effect.sync(() => order.push("b"))))
      yield* Effect.yieldNow
      // b would fit, but waits behind a: no taker is starved by smaller ones.
      assert.deepStrictEqual(order, [])
      budget.release(60)
      yield* Fiber.join(a)
      yield* Fiber.join(b)
      assert.deepStrictEqual(order, ["a", "b"])
    }))

  it.effect("an interrupted taker takes nothing, even when it was granted as it was interrupted", () =>
    Effect.gen(function*() {
      const budget = new RequestBudget(10)
      assert.isTrue(budget.tryTake(10))
      const waiting = yield* Effect.forkChild(budget.take(10))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(waiting)
      budget.release(10)
      assert.isTrue(budget.tryTake(10))
    }))
})

describe("serveConnection", () => {
  it.effect("answers pipelined requests in order, whatever the chunking", () =>
    Effect.gen(function*() {
      const requests = [
        RawClient.encode(ApiVersions, 3, versionsRequest, 10),
        RawClient.encode(Metadata, 12, metadataAll, 11),
        RawClient.encode(ApiVersions, 0, versionsRequest, 12)
      ]
      const bytes = concat(requests)
      // Chunks of 7 bytes cut through headers, bodies and size prefixes.
      const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7))
      const out = yield* serve(chunks)
      assert.deepStrictEqual(out.map((f) => new DataView(f.buffer, f.byteOffset).getInt32(0)), [10, 11, 12])
      assert.deepStrictEqual(decodeResponse(Metadata, 12, out[1]!).topics.map((t) => t.name), ["orders"])
    }))

  it.effect("connections take turns: one client's pipelined requests do not hold back another's", () =>
    Effect.gen(function*() {
      // Client A has 40 requests read in one chunk; client B one request. Every answer is logged as it is written.
      const answered: Array<string> = []
      const client = (name: string, requests: number) => {
        let sent = false
        return Socket.make({
          reader: Effect.succeed({
            pull: Effect.suspend(() => {
              if (sent) return Effect.fail(new Socket.SocketError({ reason: new Socket.SocketCloseError({ code: 1000 }) }))
              sent = true
              return Effect.succeed([concat(Array.from({ length: requests }, (_, i) => RawClient.encode(ApiVersions, 3, versionsRequest, i)))] as const)
            }),
            upgrade: Socket.SocketUpgradeError.unsupported
          }),
          writer: Effect.succeed({
            write: () => Effect.sync(() => void answered.push(name)),
            writeAll: () => Effect.sync(() => void answered.push(name))
          })
        })
      }
      yield* Effect.all([
        serveConnection(client("A", 40), connection),
        serveConnection(client("B", 1), { ...connection, id: 2, remote: "test:2" })
      ], { concurrency: "unbounded" })
      assert.strictEqual(answered.length, 41)
      assert.isAtMost(answered.indexOf("B"), 3, `B answered after ${answered.indexOf("B")} of A's answers`)
    }).pipe(Effect.provide(TestLayers.layer(MemoryFileSystem.make(), {}))))

  it.effect("runs each request in a span named after its API, with version, correlation id and client id", () =>
    Effect.gen(function*() {
      const spans: Array<Tracer.NativeSpan> = []
      const tracer = Tracer.make({
        span(options) {
          const span = new Tracer.NativeSpan(options)
          spans.push(span)
          return span
        }
      })
      yield* serve([RawClient.encode(Metadata, 9, metadataAll, 42, "span-client")]).pipe(Effect.withTracer(tracer))
      const span = spans.find((s) => s.name === "Metadata")
      assert.isDefined(span)
      assert.strictEqual(span!.attributes.get("kafka.api_version"), 9)
      assert.strictEqual(span!.attributes.get("kafka.correlation_id"), 42)
      assert.strictEqual(span!.attributes.get("kafka.client_id"), "span-client")
      assert.strictEqual(span!.status._tag, "Ended")
    }))

  it.effect("sends nothing for a produce with acks=0, appends it, and answers the next request", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const { socket, written } = memorySocket([
        RawClient.encode(Produce, 7, {
          transactionalId: null,
          acks: 0,
          timeoutMs: 1000,
          topicData: [{ name: "orders", partitionData: [{ index: 1, records: encodeBatch([{ value: new Uint8Array([1]) }]) }] }]
        }, 1),
        RawClient.encode(ApiVersions, 0, versionsRequest, 2)
      ])
      const end = yield* Effect.gen(function*() {
        yield* serveConnection(socket, connection)
        return yield* (yield* LogStore).offsets({ topic: "orders", partition: 1 })
      }).pipe(Effect.provide(TestLayers.layer(fs, { topics: { orders: 2 } })))
      const out = frames(written)
      assert.deepStrictEqual(out.map((f) => new DataView(f.buffer, f.byteOffset).getInt32(0)), [2])
      assert.strictEqual(end.logEndOffset, 1)
    }))

  it.live("handles requests behind a long poll while it waits, and still answers in request order", () =>
    Effect.gen(function*() {
      const fetchRequest = RawClient.encode(Fetch, 11, {
        replicaId: -1,
        maxWaitMs: 5000,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: "orders", topicId: "00000000-0000-0000-0000-000000000000", partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [],
        rackId: ""
      }, 1)
      const produce = RawClient.encode(Produce, 7, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: "orders", partitionData: [{ index: 0, records: encodeBatch([{ value: new Uint8Array([42]) }]) }] }]
      }, 2)
      const started = Date.now()
      // The fetch waits for data; the produce behind it on the same connection provides it.
      const out = yield* serve([concat([fetchRequest, produce, RawClient.encode(ApiVersions, 0, versionsRequest, 3)])])
      assert.isBelow(Date.now() - started, 2000, "the fetch returned when the produce arrived, not after max_wait_ms")
      assert.deepStrictEqual(out.map((f) => new DataView(f.buffer, f.byteOffset).getInt32(0)), [1, 2, 3])
      const fetched = decodeResponse(Fetch, 11, out[0]!).responses[0]!.partitions[0]!
      assert.strictEqual(fetched.highWatermark, 1)
      assert.isAbove(fetched.records!.length, 0)
    }))

  it.effect("stops at a frame above socket.request.max.bytes without answering it", () =>
    Effect.gen(function*() {
      const out = yield* serve([
        RawClient.encode(ApiVersions, 0, versionsRequest, 1),
        new Uint8Array([0, 0, 0x10, 0]),
        RawClient.encode(ApiVersions, 0, versionsRequest, 2)
      ], { "socket.request.max.bytes": "1024" })
      assert.deepStrictEqual(out.map((f) => new DataView(f.buffer, f.byteOffset).getInt32(0)), [1])
    }))

  it.effect("stops at a request that does not decode", () =>
    Effect.gen(function*() {
      const good = RawClient.encode(Metadata, 1, metadataAll, 1)
      // A topic array claiming a million entries in a 20-byte request.
      const bad = RawClient.encode(Metadata, 1, { ...metadataAll, topics: [] }, 2)
      new DataView(bad.buffer).setInt32(bad.length - 4, 1_000_000)
      const out = yield* serve([good, bad, good])
      assert.deepStrictEqual(out.map((f) => new DataView(f.buffer, f.byteOffset).getInt32(0)), [1])
    }))

  it.effect("a zero-size frame at the end of a read closes the connection with a log line, not an internal error", () =>
    Effect.gen(function*() {
      const [out, lines] = yield* withLogs(serve([concat([RawClient.encode(ApiVersions, 0, versionsRequest, 1), new Uint8Array(4)])]))
      assert.deepStrictEqual(out.map((f) => new DataView(f.buffer, f.byteOffset).getInt32(0)), [1])
      assert.isTrue(lines.some((l) => l.level === "Warn" && l.message.startsWith("closing connection: malformed request")))
      assert.isFalse(lines.some((l) => l.level === "Error"))
    }))

  it.effect("a Fetch whose byte limits are near -2^31 is answered (the first partition still gets a batch)", () =>
    Effect.gen(function*() {
      const produce = RawClient.encode(Produce, 7, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: "orders", partitionData: [{ index: 0, records: encodeBatch([{ value: new Uint8Array([7]) }]) }] }]
      }, 1)
      const fetch = RawClient.encode(Fetch, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: -2147483648,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: "orders", topicId: "00000000-0000-0000-0000-000000000000", partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: -2147483647 }] }],
        forgottenTopicsData: [],
        rackId: ""
      }, 2)
      const [out, lines] = yield* withLogs(serve([concat([produce, fetch])]))
      assert.deepStrictEqual(out.map((f) => new DataView(f.buffer, f.byteOffset).getInt32(0)), [1, 2])
      const p = decodeResponse(Fetch, 11, out[1]!).responses[0]!.partitions[0]!
      assert.strictEqual(p.errorCode, 0)
      assert.isAbove(TestLayers.received(p.records).length, 0)
      assert.isFalse(lines.some((l) => l.level === "Error"))
    }))
})
