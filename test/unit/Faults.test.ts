// Fault injection and request recording (services/testing/Faults.ts): the rules' matching and counts, each kind of
// fault through the connection pipeline, where the error code lands in the answers of several APIs (the response
// bytes decoded), that a fault stores nothing, and the recorded requests with `requests` and `waitFor`.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { concat } from "../../src/protocol/Bytes.ts"
import { type Api, defaultValue } from "../../src/protocol/Message.ts"
import { ApiVersions } from "../../src/protocol/messages/ApiVersions.ts"
import { CreateTopics } from "../../src/protocol/messages/CreateTopics.ts"
import { DescribeGroups } from "../../src/protocol/messages/DescribeGroups.ts"
import { Fetch } from "../../src/protocol/messages/Fetch.ts"
import { FindCoordinator } from "../../src/protocol/messages/FindCoordinator.ts"
import { Heartbeat } from "../../src/protocol/messages/Heartbeat.ts"
import { JoinGroup } from "../../src/protocol/messages/JoinGroup.ts"
import { ListOffsets } from "../../src/protocol/messages/ListOffsets.ts"
import { Metadata } from "../../src/protocol/messages/Metadata.ts"
import { OffsetCommit } from "../../src/protocol/messages/OffsetCommit.ts"
import { OffsetFetch } from "../../src/protocol/messages/OffsetFetch.ts"
import { Produce } from "../../src/protocol/messages/Produce.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { LogStore } from "../../src/services/log/LogStore.ts"
import { serveConnection } from "../../src/services/network/Connection.ts"
import { FaultBook, Faults, make as makeFaults, type RequestView, WaitForTimeout } from "../../src/services/testing/Faults.ts"
import { decodeResponse, RawClient } from "../../src/client/RawClient.ts"
import { withLogs } from "../support/Logs.ts"
import * as TestLayers from "../support/TestLayers.ts"
import { memorySocket } from "../support/MemorySocket.ts"

// ---------------------------------------------------------------------------------------------------------
// The pipeline over an in-memory socket, as in Connection.test.ts


const correlationOf = (frame: Uint8Array) => new DataView(frame.buffer, frame.byteOffset).getInt32(0)

const baseConnection = { id: 1, localHost: "127.0.0.1", localPort: 9092, remote: "test:1", principal: "User:ANONYMOUS" }

/** Serves `requests` (one read each) on one connection of a broker with `faults`; the answers' frames by correlation id. */
const serveWith = (faults: Faults["Service"], requests: ReadonlyArray<Uint8Array>, nodeId?: number) =>
  Effect.gen(function*() {
    const { socket, written } = memorySocket(requests)
    yield* serveConnection(socket, { ...baseConnection, ...(nodeId === undefined ? {} : { nodeId }) })
    const out = new Map<number, Uint8Array>()
    for (const w of written) out.set(correlationOf(w.subarray(4)), w.subarray(4))
    return out
  }).pipe(Effect.provideService(Faults, faults))

/** A broker over a fresh in-memory file system with "orders" (2 partitions) and "audit" (1). */
const broker = <A, E>(self: Effect.Effect<A, E, Effect.Services<ReturnType<typeof serveWith>> | LogStore | ClusterMetadata>) =>
  self.pipe(Effect.provide(TestLayers.layer(MemoryFileSystem.make(), { topics: { orders: 2, audit: 1 } })))

const request = <Req>(api: Api<Req, unknown>, fields: Partial<Req>): Req => ({ ...defaultValue(api.request), ...fields })

const encode = <Req>(api: Api<Req, unknown>, version: number, fields: Partial<Req>, correlationId: number, clientId = "unit") =>
  RawClient.encode(api, version, request(api, fields), correlationId, clientId)

const batch = () => encodeBatch([{ value: new Uint8Array([7]) }])

const produce = (correlationId: number, partitions: ReadonlyArray<number>, topic = "orders", acks = -1) =>
  encode(Produce, 9, {
    acks,
    timeoutMs: 1000,
    topicData: [{ name: topic, partitionData: partitions.map((index) => ({ index, records: batch() })) }]
  }, correlationId)

const endOffset = (topic: string, partition: number) =>
  Effect.gen(function*() {
    const store = yield* LogStore
    return (yield* Effect.orDie(store.offsets({ topic, partition }))).logEndOffset
  })

const view = (over: Partial<RequestView> = {}): RequestView => ({
  api: "Produce",
  brokerId: 1,
  clientId: "app",
  leaves: [{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }],
  ...over
})

// ---------------------------------------------------------------------------------------------------------

describe("FaultBook", () => {
  it("matches on api, topic, partition, client id and broker id", () => {
    const book = new FaultBook()
    book.add({ api: "Produce", topic: "t", partition: 1, clientId: "app", brokerId: 2 }, { _tag: "Disconnect", after: false })
    assert.isUndefined(book.take(view({ api: "Fetch", brokerId: 2 })))
    assert.isUndefined(book.take(view({ brokerId: 1 })))
    assert.isUndefined(book.take(view({ brokerId: 2, clientId: "other" })))
    assert.isUndefined(book.take(view({ brokerId: 2, leaves: [{ topic: "t", partition: 0 }] })))
    assert.isUndefined(book.take(view({ brokerId: 2, leaves: [{ topic: "u", partition: 1 }] })))
    assert.isDefined(book.take(view({ brokerId: 2 })))
    assert.strictEqual(book.pending, 0)
  })

  it("fires count times (default once, Infinity for ever), the first matching rule first", () => {
    const book = new FaultBook()
    book.add({ api: "Produce", count: 2 }, { _tag: "Error", errorCode: 6 })
    book.add({ api: "Produce" }, { _tag: "Error", errorCode: 7 })
    book.add({ api: "Fetch", count: Infinity }, { _tag: "Delay", ms: 1 })
    const codes = [1, 2, 3, 4].map(() => {
      const f = book.take(view())?.fault
      return f?._tag === "Error" ? f.errorCode : undefined
    })
    assert.deepStrictEqual(codes, [6, 6, 7, undefined])
    for (let i = 0; i < 100; i++) assert.isDefined(book.take(view({ api: "Fetch" })))
    book.clearRules()
    assert.isUndefined(book.take(view({ api: "Fetch" })))
  })

  it("a rule without api matches every API but ApiVersions; naming ApiVersions matches it", () => {
    const book = new FaultBook()
    book.add({ count: Infinity }, { _tag: "Disconnect", after: false })
    assert.isUndefined(book.take(view({ api: "ApiVersions", leaves: [] })))
    assert.isDefined(book.take(view({ api: "Metadata", leaves: [] })))
    book.add({ api: "ApiVersions" }, { _tag: "Disconnect", after: false })
    assert.isDefined(book.take(view({ api: "ApiVersions", leaves: [] })))
  })

  it("a rule naming a topic does not match a request naming none", () => {
    const book = new FaultBook()
    book.add({ topic: "t" }, { _tag: "Disconnect", after: false })
    assert.isUndefined(book.take(view({ api: "JoinGroup", leaves: [] })))
    assert.isDefined(book.take(view({ api: "Metadata", leaves: [{ topic: "t", partition: undefined }] })))
  })
})

describe("injected errors through the connection", () => {
  it.effect("Produce: the named partition gets the code and stores nothing, its sibling is appended; a retry is clean", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.inject({ api: "Produce", topic: "orders", partition: 0, errorCode: 6, count: 2 })
      const out = yield* serveWith(faults, [produce(1, [0, 1]), produce(2, [0]), produce(3, [0])])
      const codes = (id: number) => decodeResponse(Produce, 9, out.get(id)!).responses.flatMap((t) => t.partitionResponses.map((p) => [t.name, p.index, p.errorCode]))
      assert.deepStrictEqual(codes(1), [["orders", 1, 0], ["orders", 0, 6]])
      assert.deepStrictEqual(codes(2), [["orders", 0, 6]])
      assert.deepStrictEqual(codes(3), [["orders", 0, 0]])
      assert.strictEqual(yield* endOffset("orders", 0), 1, "only the third produce was appended to partition 0")
      assert.strictEqual(yield* endOffset("orders", 1), 1)
    })))

  it.effect("Produce: a rule naming no partition answers every partition of the request and stores nothing", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.inject({ api: "Produce", errorCode: 87 })
      const out = yield* serveWith(faults, [concat([produce(1, [0, 1]), encode(Produce, 9, {
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: "audit", partitionData: [{ index: 0, records: batch() }] }]
      }, 2)])])
      const first = decodeResponse(Produce, 9, out.get(1)!)
      assert.deepStrictEqual(first.responses[0]!.partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset]), [[0, 87, -1], [1, 87, -1]])
      assert.strictEqual(decodeResponse(Produce, 9, out.get(2)!).responses[0]!.partitionResponses[0]!.errorCode, 0)
      assert.strictEqual(yield* endOffset("orders", 0), 0)
      assert.strictEqual(yield* endOffset("orders", 1), 0)
    })))

  it.effect("Produce with acks=0: no answer, nothing stored for the faulted partitions", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.inject({ api: "Produce", partition: 0, errorCode: 6 })
      const out = yield* serveWith(faults, [produce(1, [0, 1], "orders", 0), encode(ApiVersions, 3, {}, 2)])
      assert.deepStrictEqual([...out.keys()], [2])
      assert.strictEqual(yield* endOffset("orders", 0), 0)
      assert.strictEqual(yield* endOffset("orders", 1), 1)
    })))

  it.effect("Fetch by topic id (v13): per partition, the rule matched on the topic's name, the other partition read", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.inject({ api: "Fetch", topic: "orders", partition: 1, errorCode: 6 })
      const fetch = encode(Fetch, 13, {
        maxWaitMs: 5000,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [{
          topic: "",
          topicId: TestLayers.topicIdOf("orders"),
          partitions: [0, 1].map((partition) => ({ partition, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }))
        }]
      }, 2)
      const started = Date.now()
      const out = yield* serveWith(faults, [produce(1, [0]), fetch])
      assert.isBelow(Date.now() - started, 4000, "a partition answered with an error makes the fetch return at once")
      const topics = decodeResponse(Fetch, 13, out.get(2)!).responses
      assert.strictEqual(topics.length, 1, "the error is merged into the topic the handler answered")
      assert.strictEqual(topics[0]!.topicId, TestLayers.topicIdOf("orders"))
      const parts = new Map(topics[0]!.partitions.map((p) => [p.partitionIndex, p]))
      assert.strictEqual(parts.get(0)!.errorCode, 0)
      assert.strictEqual(parts.get(0)!.highWatermark, 1)
      assert.strictEqual(parts.get(1)!.errorCode, 6)
      assert.strictEqual(decodeResponse(Fetch, 13, out.get(2)!).errorCode, 0, "not at the top level: clients read that as a session error")
      const recorded = yield* faults.requests({ api: "Fetch" })
      assert.deepStrictEqual(recorded.map((r) => r.topics), [["orders"]])
    })))

  it.effect("ListOffsets per partition; JoinGroup and Heartbeat at the top level", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.inject({ api: "ListOffsets", errorCode: 6 })
      yield* faults.inject({ api: "JoinGroup", errorCode: 16 })
      yield* faults.inject({ api: "Heartbeat", errorCode: 27 })
      const out = yield* serveWith(faults, [
        encode(ListOffsets, 5, { replicaId: -1, topics: [{ name: "orders", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 }] }] }, 1),
        encode(JoinGroup, 5, { groupId: "g", sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }] }, 2),
        encode(Heartbeat, 3, { groupId: "g", generationId: 1, memberId: "m" }, 3)
      ])
      const lo = decodeResponse(ListOffsets, 5, out.get(1)!).topics[0]!.partitions[0]!
      assert.deepStrictEqual([lo.partitionIndex, lo.errorCode], [0, 6])
      assert.strictEqual(decodeResponse(JoinGroup, 5, out.get(2)!).errorCode, 16)
      assert.strictEqual(decodeResponse(Heartbeat, 3, out.get(3)!).errorCode, 27)
    })))

  it.effect("coordinator codes go to the highest place: per partition in OffsetCommit, per group in OffsetFetch v8, top-level before", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.inject({ api: "OffsetCommit", errorCode: 16 })
      yield* faults.inject({ api: "OffsetFetch", errorCode: 16, count: 2 })
      const out = yield* serveWith(faults, [
        encode(OffsetCommit, 8, {
          groupId: "g",
          generationIdOrMemberEpoch: -1,
          memberId: "",
          topics: [{ name: "orders", partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null })) }]
        }, 1),
        encode(OffsetFetch, 8, { groups: [{ groupId: "g", memberId: null, memberEpoch: -1, topics: [{ name: "orders", partitionIndexes: [0] }] }] }, 2),
        encode(OffsetFetch, 7, { groupId: "g", topics: [{ name: "orders", partitionIndexes: [0] }] }, 3),
        encode(OffsetFetch, 7, { groupId: "g", topics: [{ name: "orders", partitionIndexes: [0] }] }, 4)
      ])
      assert.deepStrictEqual(decodeResponse(OffsetCommit, 8, out.get(1)!).topics[0]!.partitions.map((p) => p.errorCode), [16, 16])
      const v8 = decodeResponse(OffsetFetch, 8, out.get(2)!).groups[0]!
      assert.deepStrictEqual([v8.groupId, v8.errorCode, v8.topics.length], ["g", 16, 0])
      assert.strictEqual(decodeResponse(OffsetFetch, 7, out.get(3)!).errorCode, 16)
      // The offset was never committed: the fault stored nothing, and the last fetch ran as usual.
      const after = decodeResponse(OffsetFetch, 7, out.get(4)!)
      assert.deepStrictEqual([after.errorCode, after.topics[0]!.partitions[0]!.committedOffset], [0, -1])
    })))

  it.effect("per item: CreateTopics per topic (the other one created), DescribeGroups per group, FindCoordinator v4 per key", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.inject({ api: "CreateTopics", topic: "bad", errorCode: 41 })
      yield* faults.inject({ api: "DescribeGroups", errorCode: 15 })
      yield* faults.inject({ api: "FindCoordinator", errorCode: 15 })
      const topic = (name: string) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })
      const out = yield* serveWith(faults, [
        encode(CreateTopics, 5, { topics: [topic("good"), topic("bad")], timeoutMs: 1000 }, 1),
        encode(DescribeGroups, 5, { groups: ["a", "b"] }, 2),
        encode(FindCoordinator, 4, { keyType: 0, coordinatorKeys: ["a"] }, 3),
        encode(Metadata, 12, { topics: null }, 4)
      ])
      const created = decodeResponse(CreateTopics, 5, out.get(1)!).topics.map((t) => [t.name, t.errorCode])
      assert.sameDeepMembers(created, [["good", 0], ["bad", 41]])
      assert.deepStrictEqual(decodeResponse(DescribeGroups, 5, out.get(2)!).groups.map((g) => [g.groupId, g.errorCode]), [["a", 15], ["b", 15]])
      assert.deepStrictEqual(decodeResponse(FindCoordinator, 4, out.get(3)!).coordinators.map((c) => [c.key, c.errorCode]), [["a", 15]])
      const names = decodeResponse(Metadata, 12, out.get(4)!).topics.map((t) => t.name)
      assert.include(names, "good")
      assert.notInclude(names, "bad")
    })))

  it.effect("Metadata: the named topic carries the code, the brokers are still answered", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.inject({ api: "Metadata", topic: "orders", errorCode: 5 })
      const out = yield* serveWith(faults, [encode(Metadata, 12, { topics: null }, 1)])
      const answer = decodeResponse(Metadata, 12, out.get(1)!)
      assert.isAbove(answer.brokers.length, 0)
      const byName = new Map(answer.topics.map((t) => [t.name, t]))
      assert.deepStrictEqual([byName.get("orders")!.errorCode, byName.get("orders")!.partitions.length], [5, 0])
      assert.strictEqual(byName.get("audit")!.errorCode, 0)
    })))

  it.effect("broker id: the connection's node id, node.id by default", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.inject({ api: "Heartbeat", brokerId: 2, errorCode: 27, count: Infinity })
      const hb = (id: number) => encode(Heartbeat, 3, { groupId: "g", generationId: 1, memberId: "m" }, id)
      const one = yield* serveWith(faults, [hb(1)])
      const two = yield* serveWith(faults, [hb(2)], 2)
      assert.notStrictEqual(decodeResponse(Heartbeat, 3, one.get(1)!).errorCode, 27)
      assert.strictEqual(decodeResponse(Heartbeat, 3, two.get(2)!).errorCode, 27)
      assert.deepStrictEqual((yield* faults.requests({ api: "Heartbeat" })).map((r) => r.brokerId), [1, 2])
    })))
})

describe("delays and disconnects", () => {
  it.live("a delay holds the request that long, then it runs as usual; ApiVersions only when named", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.delay({ ms: 300 })
      yield* faults.delay({ api: "ApiVersions", ms: 300 })
      const started = Date.now()
      const out = yield* serveWith(faults, [encode(ApiVersions, 3, {}, 1)])
      assert.isAtLeast(Date.now() - started, 290)
      assert.strictEqual(decodeResponse(ApiVersions, 3, out.get(1)!).errorCode, 0)
      const again = Date.now()
      yield* serveWith(faults, [produce(2, [0])])
      assert.isAtLeast(Date.now() - again, 290, "the api-less rule waited for the first request it matches: the Produce")
      assert.strictEqual(yield* endOffset("orders", 0), 1)
    })))

  it.effect("a disconnect closes the connection instead of answering, with a log line; nothing is stored", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.disconnect({ api: "Produce" })
      const [out, lines] = yield* withLogs(serveWith(faults, [encode(ApiVersions, 3, {}, 1), produce(2, [0]), encode(ApiVersions, 3, {}, 3)]))
      assert.deepStrictEqual([...out.keys()], [1])
      assert.isTrue(lines.some((l) => l.level === "Warn" && l.message.includes("fault injected: disconnect instead of answering Produce")))
      assert.strictEqual(yield* endOffset("orders", 0), 0)
      // Once: the next connection's produce is served.
      const next = yield* serveWith(faults, [produce(4, [0])])
      assert.strictEqual(decodeResponse(Produce, 9, next.get(4)!).responses[0]!.partitionResponses[0]!.errorCode, 0)
    })))

  it.effect("a disconnect after the request ran: the produce is stored, its answer never sent", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.disconnect({ api: "Produce", when: "after" })
      const out = yield* quietlyServe(faults, [produce(1, [0]), encode(ApiVersions, 3, {}, 2)])
      assert.strictEqual(out.size, 0)
      assert.strictEqual(yield* endOffset("orders", 0), 1)
    })))

  it.effect("a disconnect on a request that runs on its own fiber (JoinGroup) closes the connection too", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* faults.disconnect({ api: "JoinGroup" })
      const join = encode(JoinGroup, 5, { groupId: "g", sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }] }, 1)
      const out = yield* quietlyServe(faults, [join])
      assert.strictEqual(out.size, 0)
    })))
})

const quietlyServe = (faults: Faults["Service"], requests: ReadonlyArray<Uint8Array>) => Effect.map(withLogs(serveWith(faults, requests)), ([a]) => a)

describe("recording", () => {
  it.effect("records every request with its api, version, broker, client, correlation id and topics", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      yield* serveWith(faults, [
        encode(ApiVersions, 3, {}, 1, "a"),
        encode(Metadata, 12, { topics: [{ topicId: TestLayers.topicIdOf("audit"), name: null }, { topicId: "00000000-0000-0000-0000-000000000000", name: "orders" }] }, 2, "b"),
        produce(3, [0, 1])
      ])
      const all = yield* faults.requests()
      assert.deepStrictEqual(all, [
        { api: "ApiVersions", apiVersion: 3, brokerId: 1, clientId: "a", correlationId: 1, topics: [] },
        { api: "Metadata", apiVersion: 12, brokerId: 1, clientId: "b", correlationId: 2, topics: ["audit", "orders"] },
        { api: "Produce", apiVersion: 9, brokerId: 1, clientId: "unit", correlationId: 3, topics: ["orders"] }
      ])
      assert.deepStrictEqual((yield* faults.requests({ topic: "orders" })).map((r) => r.api), ["Metadata", "Produce"])
      assert.deepStrictEqual((yield* faults.requests((r) => r.correlationId > 1)).length, 2)
      yield* faults.reset
      assert.deepStrictEqual(yield* faults.requests(), [])
    })))

  it.live("waitFor resolves on a request recorded already or arriving later, and fails after its timeout", () =>
    broker(Effect.gen(function*() {
      const faults = makeFaults()
      const later = yield* Effect.forkChild(faults.waitFor({ api: "Heartbeat" }))
      yield* Effect.yieldNow
      yield* serveWith(faults, [encode(Heartbeat, 3, { groupId: "g", generationId: 1, memberId: "m" }, 5)])
      const got = yield* Fiber.join(later)
      assert.deepStrictEqual([got.api, got.correlationId], ["Heartbeat", 5])
      const already = yield* faults.waitFor((r) => r.api === "Heartbeat")
      assert.strictEqual(already.correlationId, 5)
      assert.instanceOf(yield* Effect.flip(faults.waitFor({ api: "Fetch" }, 20)), WaitForTimeout)
    })))
})
