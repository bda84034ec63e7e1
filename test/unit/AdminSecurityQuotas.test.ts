// The admin APIs of security, quotas, the quorum and features over the live metadata log and log store on the
// in-memory file system: ACL APIs without an authorizer, SCRAM credentials, client quotas kept as
// ClientQuotaRecords (every refusal Kafka has, validate_only, restarts, snapshots) and enforced on Produce and
// Fetch with throttle times and a muted connection (on the TestClock), DescribeQuorum for the single voter,
// ApiVersions' features and UpdateFeatures.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, FileSystem } from "effect"
import { TestClock } from "effect/testing"
import { decodeResponse, RawClient } from "../../src/client/RawClient.ts"
import * as KRaftMetadata from "../../src/layers/metadata/KRaftMetadata.ts"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import { ErrorCode } from "../../src/protocol/ErrorCode.ts"
import type { RequestOf } from "../../src/protocol/Message.ts"
import { ApiVersions as ApiVersionsApi } from "../../src/protocol/messages/ApiVersions.ts"
import { Produce as ProduceApi } from "../../src/protocol/messages/Produce.ts"
import { DEFAULT_METADATA_VERSION, readMetadataSnapshot } from "../../src/protocol/MetadataRecords.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import * as AlterClientQuotas from "../../src/services/api/AlterClientQuotas.ts"
import { handlers } from "../../src/services/api/Apis.ts"
import * as ApiVersions from "../../src/services/api/ApiVersions.ts"
import * as CreateAcls from "../../src/services/api/CreateAcls.ts"
import * as DeleteAcls from "../../src/services/api/DeleteAcls.ts"
import * as DescribeAcls from "../../src/services/api/DescribeAcls.ts"
import * as DescribeClientQuotas from "../../src/services/api/DescribeClientQuotas.ts"
import * as DescribeQuorum from "../../src/services/api/DescribeQuorum.ts"
import * as DescribeUserScramCredentials from "../../src/services/api/DescribeUserScramCredentials.ts"
import * as Fetch from "../../src/services/api/Fetch.ts"
import { type Handler, NoResponse } from "../../src/services/api/Handler.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import * as UpdateFeatures from "../../src/services/api/UpdateFeatures.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { serveConnection } from "../../src/services/network/Connection.ts"
import { type BrokerOptions, callResponse, contextAt, layer, LOG_DIR } from "../support/TestLayers.ts"
import { memorySocket } from "../support/MemorySocket.ts"

const broker = (options: BrokerOptions = {}) => layer(MemoryFileSystem.make(), options)

// ---------------------------------------------------------------------------------------------------------
// ACLs and SCRAM

describe("ACL APIs without an authorizer", () => {
  const filter = {
    resourceTypeFilter: 1,
    resourceNameFilter: null,
    patternTypeFilter: 1,
    principalFilter: null,
    hostFilter: null,
    operation: 1,
    permissionType: 1
  }
  const binding = (name: string) => ({
    resourceType: 2,
    resourceName: name,
    resourcePatternType: 3,
    principal: "User:alice",
    host: "*",
    operation: 3,
    permissionType: 3
  })

  it("are served from v1 (Kafka 4 removed v0) to v3", () => {
    for (const key of [29, 30, 31]) {
      const h = handlers.get(key)!
      assert.deepStrictEqual([h.minVersion, h.maxVersion], [1, 3])
    }
  })

  it.effect.each([1, 2, 3])("DescribeAcls v%i answers SECURITY_DISABLED with Kafka's message", (version) =>
    Effect.gen(function*() {
      const response = yield* callResponse(DescribeAcls.make, version, filter)
      assert.deepStrictEqual(response, {
        throttleTimeMs: 0,
        errorCode: ErrorCode.SECURITY_DISABLED,
        errorMessage: "No Authorizer is configured on the broker",
        resources: []
      })
    }).pipe(Effect.provide(broker())))

  it.effect.each([1, 2, 3])("CreateAcls v%i answers SECURITY_DISABLED for each creation", (version) =>
    Effect.gen(function*() {
      const response = yield* callResponse(CreateAcls.make, version, { creations: [binding("a"), binding("b")] })
      assert.deepStrictEqual(response.results, [
        { errorCode: 54, errorMessage: "No Authorizer is configured." },
        { errorCode: 54, errorMessage: "No Authorizer is configured." }
      ])
    }).pipe(Effect.provide(broker())))

  it.effect.each([1, 2, 3])("DeleteAcls v%i answers SECURITY_DISABLED for each filter, matching nothing", (version) =>
    Effect.gen(function*() {
      const response = yield* callResponse(DeleteAcls.make, version, { filters: [filter, { ...filter, operation: 2 }] })
      assert.deepStrictEqual(response.filterResults, [
        { errorCode: 54, errorMessage: "No Authorizer is configured.", matchingAcls: [] },
        { errorCode: 54, errorMessage: "No Authorizer is configured.", matchingAcls: [] }
      ])
    }).pipe(Effect.provide(broker())))
})

describe("DescribeUserScramCredentials", () => {
  it.effect("all users: none (no SCRAM credentials are kept)", () =>
    Effect.gen(function*() {
      for (const users of [null, []]) {
        const response = yield* callResponse(DescribeUserScramCredentials.make, 0, { users })
        assert.deepStrictEqual(response, { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results: [] })
      }
    }).pipe(Effect.provide(broker())))

  it.effect("named users: RESOURCE_NOT_FOUND each, DUPLICATE_RESOURCE for one named twice", () =>
    Effect.gen(function*() {
      const response = yield* callResponse(DescribeUserScramCredentials.make, 0, {
        users: [{ name: "alice" }, { name: "bob" }, { name: "alice" }]
      })
      assert.strictEqual(response.errorCode, 0)
      assert.deepStrictEqual(response.results, [
        {
          user: "alice",
          errorCode: ErrorCode.DUPLICATE_RESOURCE,
          errorMessage: "Cannot describe SCRAM credentials for the same user twice in a single request: alice",
          credentialInfos: []
        },
        {
          user: "bob",
          errorCode: ErrorCode.RESOURCE_NOT_FOUND,
          errorMessage: "Attempt to describe a user credential that does not exist: bob",
          credentialInfos: []
        }
      ])
    }).pipe(Effect.provide(broker())))
})

// ---------------------------------------------------------------------------------------------------------
// Client quotas: altering and describing

type Entity = ReadonlyArray<readonly [type: string, name: string | null]>
type Op = readonly [key: string, value: number | "remove"]

const entry = (entity: Entity, ops: ReadonlyArray<Op>) => ({
  entity: entity.map(([entityType, entityName]) => ({ entityType, entityName })),
  ops: ops.map(([key, value]) => (value === "remove" ? { key, value: 0, remove: true } : { key, value, remove: false }))
})

const alter = (entries: ReadonlyArray<ReturnType<typeof entry>>, validateOnly = false, version = 1) =>
  callResponse(AlterClientQuotas.make, version, { entries: [...entries], validateOnly })

const describeQuotas = (
  components: ReadonlyArray<{ entityType: string; matchType: number; match: string | null }>,
  strict = false,
  version = 1
) => callResponse(DescribeClientQuotas.make, version, { components: [...components], strict })

/** Entities and values of a describe answer, sorted, as `type=name` strings. */
const described = (entries: ReadonlyArray<{ entity: ReadonlyArray<{ entityType: string; entityName: string | null }>; values: ReadonlyArray<{ key: string; value: number }> }> | null) =>
  (entries ?? [])
    .map((e) => [e.entity.map((p) => `${p.entityType}=${p.entityName ?? "<default>"}`).join(","), Object.fromEntries(e.values.map((v) => [v.key, v.value]))] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1))

const EXACT = 0
const DEFAULT = 1
const ANY = 2

describe("AlterClientQuotas", () => {
  it.effect("sets quotas of users, client ids, defaults and ips, written to the metadata log and kept over a restart", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const altered = yield* alter([
        entry([["user", "alice"]], [["producer_byte_rate", 1024], ["consumer_byte_rate", 2048]]),
        entry([["client-id", null]], [["producer_byte_rate", 500]]),
        entry([["client-id", "app"], ["user", null]], [["request_percentage", 12.5]]),
        entry([["ip", "10.0.0.1"]], [["connection_creation_rate", 10]]),
        entry([["ip", null]], [["connection_creation_rate", 100]])
      ]).pipe(Effect.provide(layer(fs)))
      assert.deepStrictEqual(altered.entries.map((e) => [e.errorCode, e.errorMessage]), Array(5).fill([0, null]))
      assert.deepStrictEqual(altered.entries[2]!.entity, [
        { entityType: "client-id", entityName: "app" },
        { entityType: "user", entityName: null }
      ])
      // A restart replays the ClientQuotaRecords.
      const after = yield* describeQuotas([]).pipe(Effect.provide(layer(fs)))
      assert.deepStrictEqual(described(after.entries), [
        ["client-id=<default>", { producer_byte_rate: 500 }],
        ["client-id=app,user=<default>", { request_percentage: 12.5 }],
        ["ip=10.0.0.1", { connection_creation_rate: 10 }],
        ["ip=<default>", { connection_creation_rate: 100 }],
        ["user=alice", { producer_byte_rate: 1024, consumer_byte_rate: 2048 }]
      ])
    }))

  it.effect("writes one record per changed value, and removing the last value removes the entity", () =>
    Effect.gen(function*() {
      const metadata = yield* ClusterMetadata
      yield* alter([entry([["user", "bob"]], [["producer_byte_rate", 100], ["consumer_byte_rate", 200]])])
      const before = (yield* metadata.log).endOffset
      // The same value again writes nothing; removing an absent key writes nothing either.
      const same = yield* alter([entry([["user", "bob"]], [["producer_byte_rate", 100], ["request_percentage", "remove"]])])
      assert.strictEqual(same.entries[0]!.errorCode, 0)
      assert.strictEqual((yield* metadata.log).endOffset, before)
      yield* alter([entry([["user", "bob"]], [["producer_byte_rate", "remove"]])])
      assert.strictEqual((yield* metadata.log).endOffset, before + 1)
      assert.deepStrictEqual(described((yield* describeQuotas([])).entries), [["user=bob", { consumer_byte_rate: 200 }]])
      yield* alter([entry([["user", "bob"]], [["consumer_byte_rate", "remove"]])])
      assert.deepStrictEqual((yield* describeQuotas([])).entries, [])
      assert.strictEqual((yield* metadata.image).clientQuotas.size, 0)
    }).pipe(Effect.provide(broker())))

  it.effect("validate_only checks and writes nothing", () =>
    Effect.gen(function*() {
      const metadata = yield* ClusterMetadata
      const before = (yield* metadata.log).endOffset
      const checked = yield* alter([
        entry([["user", "carol"]], [["producer_byte_rate", 1]]),
        entry([["user", "dave"]], [["bogus", 1]])
      ], true, 0)
      assert.deepStrictEqual(checked.entries.map((e) => e.errorCode), [0, ErrorCode.INVALID_REQUEST])
      assert.strictEqual((yield* metadata.log).endOffset, before)
      assert.deepStrictEqual((yield* describeQuotas([], false, 0)).entries, [])
    }).pipe(Effect.provide(broker())))

  it.effect("refuses what Kafka refuses, each entity on its own, with Kafka's messages", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReturnType<typeof entry>, string]> = [
        [entry([["user", "u1"]], [["bogus_rate", 1]]), "Invalid configuration key bogus_rate"],
        [entry([["user", "u2"]], [["producer_byte_rate", 0]]), "Quota producer_byte_rate must be greater than 0"],
        [entry([["user", "u3"]], [["consumer_byte_rate", -5]]), "Quota consumer_byte_rate must be greater than 0"],
        [entry([["user", "u4"]], [["producer_byte_rate", 10.5]]), "producer_byte_rate cannot be a fractional value."],
        [entry([["user", "u5"]], [["producer_byte_rate", 1e20]]), "Proposed value for producer_byte_rate is too large for a LONG."],
        [entry([["ip", "10.0.0.2"]], [["connection_creation_rate", 3e9]]), "Proposed value for connection_creation_rate is too large for an INT."],
        [entry([["user", "u6"]], [["connection_creation_rate", 1]]), "Invalid configuration key connection_creation_rate"],
        [entry([["ip", "10.0.0.3"]], [["producer_byte_rate", 1]]), "Invalid configuration key producer_byte_rate"],
        [entry([], [["producer_byte_rate", 1]]), "Invalid empty client quota entity"],
        [entry([["group", "g"]], [["producer_byte_rate", 1]]), "Unhandled client quota entity type: group"],
        [entry([["user", "u7"], ["user", "u8"]], [["producer_byte_rate", 1]]), "Invalid client quota entity, duplicate entity entry user"],
        [entry([["client-id", ""]], [["producer_byte_rate", 1]]), "Empty client-id not supported"],
        [entry([["ip", "10.0.0.4"], ["user", "u9"]], [["connection_creation_rate", 1]]), "Invalid quota entity combination, IP entity should not be combined with User or ClientId"],
        [entry([["ip", "not an address"]], [["connection_creation_rate", 1]]), "not an address is not a valid IP or resolvable host."],
        [entry([["user", "u10"]], [["producer_byte_rate", 1], ["producer_byte_rate", 2]]), "Duplicate quota key producer_byte_rate not updating quota for this entity ClientQuotaEntity(entries={user=u10})"]
      ]
      const fine = entry([["client-id", "ok"]], [["producer_byte_rate", 1]])
      const response = yield* alter([fine, ...cases.map(([e]) => e)])
      assert.deepStrictEqual(
        response.entries.map((e) => [e.errorCode, e.errorMessage]),
        [[0, null], ...cases.map(([, message]) => [ErrorCode.INVALID_REQUEST, message])]
      )
      // Only the valid entity was written.
      assert.deepStrictEqual(described((yield* describeQuotas([])).entries), [["client-id=ok", { producer_byte_rate: 1 }]])
    }).pipe(Effect.provide(broker())))

  it.effect("an entity named twice is refused, and nothing of it is written", () =>
    Effect.gen(function*() {
      const response = yield* alter([
        entry([["user", "eve"], ["client-id", "c"]], [["producer_byte_rate", 1]]),
        entry([["client-id", "c"], ["user", "eve"]], [["consumer_byte_rate", 1]])
      ])
      assert.deepStrictEqual(response.entries.map((e) => [e.errorCode, e.errorMessage]), [
        [ErrorCode.INVALID_REQUEST, "Ignoring duplicate entity ClientQuotaEntity(entries={client-id=c, user=eve})"]
      ])
      assert.deepStrictEqual((yield* describeQuotas([])).entries, [])
    }).pipe(Effect.provide(broker())))

  it.effect("quotas are in the metadata snapshot", () =>
    Effect.gen(function*() {
      yield* alter([entry([["user", "frank"]], [["producer_byte_rate", 4096]])])
      // Enough records to pass the snapshot threshold.
      for (let i = 0; i < 30; i++) yield* alter([entry([["client-id", `c${i}`]], [["consumer_byte_rate", 1000 + i]])])
      const fs = yield* FileSystem.FileSystem
      const dir = `${LOG_DIR}/${KRaftMetadata.METADATA_DIR}`
      const snapshot = (yield* fs.readDirectory(dir)).filter((n) => n.endsWith(".checkpoint")).sort().at(-1)
      assert.isDefined(snapshot)
      const records = readMetadataSnapshot(yield* fs.readFile(`${dir}/${snapshot}`)).records
      assert.deepInclude(records, {
        type: "ClientQuota",
        version: 0,
        entity: [{ entityType: "user", entityName: "frank" }],
        key: "producer_byte_rate",
        value: 4096,
        remove: false
      })
    }).pipe(Effect.provide(broker({ properties: { "metadata.log.max.record.bytes.between.snapshots": "1000" } }))))
})

describe("DescribeClientQuotas", () => {
  const seed = alter([
    entry([["user", "alice"]], [["producer_byte_rate", 1]]),
    entry([["user", null]], [["producer_byte_rate", 2]]),
    entry([["user", "alice"], ["client-id", "app"]], [["producer_byte_rate", 3]]),
    entry([["user", "alice"], ["client-id", null]], [["producer_byte_rate", 4]]),
    entry([["client-id", "app"]], [["producer_byte_rate", 5]]),
    entry([["ip", "10.0.0.1"]], [["connection_creation_rate", 6]])
  ])
  const names = (r: { entries: Parameters<typeof described>[0] }) => described(r.entries).map(([e]) => e)

  it.effect("matches exact names, default entities and any entity of a type; strict leaves out other types", () =>
    Effect.gen(function*() {
      yield* seed
      assert.deepStrictEqual(names(yield* describeQuotas([{ entityType: "user", matchType: EXACT, match: "alice" }])), [
        "client-id=<default>,user=alice",
        "client-id=app,user=alice",
        "user=alice"
      ])
      assert.deepStrictEqual(names(yield* describeQuotas([{ entityType: "user", matchType: EXACT, match: "alice" }], true)), ["user=alice"])
      assert.deepStrictEqual(names(yield* describeQuotas([{ entityType: "user", matchType: DEFAULT, match: null }], true)), ["user=<default>"])
      // ANY matches named and default entities of the type, as Kafka's image does.
      assert.deepStrictEqual(names(yield* describeQuotas([{ entityType: "user", matchType: ANY, match: null }], true)), ["user=<default>", "user=alice"])
      assert.deepStrictEqual(
        names(yield* describeQuotas([{ entityType: "user", matchType: EXACT, match: "alice" }, { entityType: "client-id", matchType: ANY, match: null }], true)),
        ["client-id=<default>,user=alice", "client-id=app,user=alice"]
      )
      assert.deepStrictEqual(names(yield* describeQuotas([{ entityType: "client-id", matchType: EXACT, match: "app" }])), [
        "client-id=app",
        "client-id=app,user=alice"
      ])
      assert.deepStrictEqual(names(yield* describeQuotas([{ entityType: "ip", matchType: ANY, match: null }], false, 0)), ["ip=10.0.0.1"])
      assert.strictEqual(names(yield* describeQuotas([])).length, 6)
      assert.deepStrictEqual(names(yield* describeQuotas([], true)), [])
      assert.deepStrictEqual(names(yield* describeQuotas([{ entityType: "user", matchType: EXACT, match: "nobody" }])), [])
    }).pipe(Effect.provide(broker())))

  it.effect("refuses a bad filter at the top level, entries null, with Kafka's codes and messages", () =>
    Effect.gen(function*() {
      const bad: ReadonlyArray<readonly [ReadonlyArray<{ entityType: string; matchType: number; match: string | null }>, number, string]> = [
        [[{ entityType: "", matchType: ANY, match: null }], 42, "Invalid empty entity type."],
        [[{ entityType: "user", matchType: ANY, match: null }, { entityType: "user", matchType: EXACT, match: "a" }], 42, "Entity type user cannot appear more than once in the filter."],
        [[{ entityType: "group", matchType: ANY, match: null }], 35, "Unsupported entity type group"],
        [[{ entityType: "user", matchType: EXACT, match: null }], 42, "Request specified MATCH_TYPE_EXACT, but set match string to null."],
        [[{ entityType: "user", matchType: DEFAULT, match: "a" }], 42, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string."],
        [[{ entityType: "user", matchType: ANY, match: "a" }], 42, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string."],
        [[{ entityType: "user", matchType: 7, match: null }], 42, "Unknown match type 7"],
        [[{ entityType: "ip", matchType: ANY, match: null }, { entityType: "client-id", matchType: ANY, match: null }], 42, "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component."]
      ]
      for (const [components, code, message] of bad) {
        for (const version of [0, 1]) {
          const response = yield* describeQuotas(components, false, version)
          assert.deepStrictEqual(response, { throttleTimeMs: 0, errorCode: code, errorMessage: message, entries: null })
        }
      }
    }).pipe(Effect.provide(broker())))
})

// ---------------------------------------------------------------------------------------------------------
// Client quotas: enforcement

const TOPIC = "quota-topic"
const produceRequest = (bytes: number, acks = 1): RequestOf<typeof ProduceApi> => ({
  transactionalId: null,
  acks,
  timeoutMs: 1000,
  topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: encodeBatch([{ value: new Uint8Array(bytes) }]) }] }]
})

/** Runs a handler as a client with `clientId` would reach it (no codec: the raw answer, records unread). */
const callRawAs = <Req, Res, R>(h: Handler<Req, Res, R>, version: number, request: Req, clientId: string) =>
  h.handle(request, { ...contextAt(version), clientId })

const callAs = <Req, Res, R>(h: Handler<Req, Res, R>, version: number, request: Req, clientId: string) =>
  Effect.flatMap(callRawAs(h, version, request, clientId), (response) =>
    response === NoResponse ? Effect.die(new Error("no response")) : Effect.succeed(response))

/** Kafka's throttle for `bytes` recorded at once by a new client: the rate over the minimum window (10 s). */
const firstBurstThrottle = (bytes: number, bound: number) => Math.round(((bytes / 10 - bound) / bound) * 10_000)

/**
 * Serves one connection whose client sends `chunks` at once and then closes, on a fiber; returns what it has
 * written so far once the connection has done what it can without the clock moving.
 */
const serveOnce = (chunks: ReadonlyArray<Uint8Array>) =>
  Effect.gen(function*() {
    const { socket, written } = memorySocket(chunks)
    const connection = yield* Effect.forkChild(serveConnection(socket, { id: 7, localHost: "127.0.0.1", localPort: 9092, remote: "test:7", principal: "User:ANONYMOUS" }))
    for (let i = 0; i < 20; i++) yield* Effect.yieldNow
    return { written, connection }
  })

describe("producer_byte_rate", () => {
  it.effect("a client above its quota is answered at once with throttle_time_ms; others are not throttled", () =>
    Effect.gen(function*() {
      yield* alter([entry([["client-id", "fast"]], [["producer_byte_rate", 1000]])])
      const request = produceRequest(20_000)
      const size = request.topicData[0]!.partitionData[0]!.records!.length
      // Within the quota: 20 kB over an assumed 10 s window is 2 kB/s for the quota-less client.
      const other = yield* callAs(Produce.make, 9, request, "slow")
      assert.strictEqual(other.throttleTimeMs, 0)
      const first = yield* callAs(Produce.make, 9, produceRequest(20_000), "fast")
      assert.strictEqual(first.responses[0]!.partitionResponses[0]!.errorCode, 0, "the records are written all the same")
      assert.strictEqual(first.throttleTimeMs, firstBurstThrottle(size, 1000))
      assert.isAbove(first.throttleTimeMs, 9000)
      // A small produce within a quiet window is not throttled again once the burst has expired (11 s).
      yield* TestClock.adjust(11_000)
      const later = yield* callAs(Produce.make, 9, produceRequest(10), "fast")
      assert.strictEqual(later.throttleTimeMs, 0)
    }).pipe(Effect.provide(broker({ topics: { [TOPIC]: 1 } }))))

  it.effect("the default client-id quota applies to each client id on its own; user quotas to ANONYMOUS", () =>
    Effect.gen(function*() {
      yield* alter([entry([["client-id", null]], [["producer_byte_rate", 1000]])])
      const a = yield* callAs(Produce.make, 9, produceRequest(15_000), "a")
      const b = yield* callAs(Produce.make, 9, produceRequest(15_000), "b")
      // Each client measured alone: both at 1.5 kB/s.
      assert.isAbove(a.throttleTimeMs, 0)
      assert.strictEqual(b.throttleTimeMs, a.throttleTimeMs)
      // A quota for the user every unauthenticated client is takes over: all its clients share one rate.
      yield* alter([entry([["user", "ANONYMOUS"]], [["producer_byte_rate", 100_000]])])
      yield* TestClock.adjust(20_000)
      const c = yield* callAs(Produce.make, 9, produceRequest(600_000), "c")
      const d = yield* callAs(Produce.make, 9, produceRequest(600_000), "d")
      assert.strictEqual(c.throttleTimeMs, 0)
      assert.isAbove(d.throttleTimeMs, 0, "the second client adds to the first one's rate")
    }).pipe(Effect.provide(broker({ topics: { [TOPIC]: 1 } }))))

  it.effect("a throttled answer mutes the connection: the next request is read only after throttle_time_ms", () =>
    Effect.gen(function*() {
      yield* alter([entry([["client-id", "raw-test"]], [["producer_byte_rate", 1000]])])
      const { written, connection } = yield* serveOnce([
        RawClient.encode(ProduceApi, 9, produceRequest(20_000), 1),
        RawClient.encode(ProduceApi, 9, produceRequest(10), 2)
      ])
      assert.strictEqual(written.length, 1, "the throttled answer went out at once")
      const first = decodeResponse(ProduceApi, 9, written[0]!.subarray(4))
      assert.isAbove(first.throttleTimeMs, 9000)
      // The second request was sent at the same time, but is read only once the throttle time has passed.
      yield* TestClock.adjust(first.throttleTimeMs - 1)
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow
      assert.strictEqual(written.length, 1, "nothing read while muted")
      yield* TestClock.adjust(1)
      yield* Fiber.join(connection)
      assert.strictEqual(written.length, 2)
      assert.strictEqual(new DataView(written[1]!.buffer, written[1]!.byteOffset).getInt32(4), 2)
    }).pipe(Effect.provide(broker({ topics: { [TOPIC]: 1 } }))))

  it.effect("acks=0: no answer carries the throttle, but the connection is muted all the same", () =>
    Effect.gen(function*() {
      yield* alter([entry([["client-id", "raw-test"]], [["producer_byte_rate", 1000]])])
      const request = produceRequest(20_000, 0)
      const { written, connection } = yield* serveOnce([
        RawClient.encode(ProduceApi, 9, request, 1),
        RawClient.encode(ApiVersionsApi, 0, { clientSoftwareName: "", clientSoftwareVersion: "" }, 2)
      ])
      assert.strictEqual(written.length, 0)
      yield* TestClock.adjust(firstBurstThrottle(request.topicData[0]!.partitionData[0]!.records!.length, 1000) - 1)
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow
      assert.strictEqual(written.length, 0, "nothing read while muted")
      yield* TestClock.adjust(1)
      yield* Fiber.join(connection)
      assert.strictEqual(written.length, 1)
      assert.strictEqual(new DataView(written[0]!.buffer, written[0]!.byteOffset).getInt32(4), 2)
    }).pipe(Effect.provide(broker({ topics: { [TOPIC]: 1 } }))))
})

describe("consumer_byte_rate", () => {
  const fetchRequest = (maxBytes = 1 << 20, fetchOffset = 0) => ({
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic: TOPIC,
      topicId: ZERO_UUID,
      partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }]
    }],
    forgottenTopicsData: [],
    rackId: ""
  })

  it.effect("above the quota a Fetch is answered empty with throttle_time_ms, and the bytes not sent do not count", () =>
    Effect.gen(function*() {
      yield* callAs(Produce.make, 9, produceRequest(15_000), "producer")
      yield* callAs(Produce.make, 9, produceRequest(3_000), "producer")
      yield* alter([entry([["client-id", "reader"]], [["consumer_byte_rate", 1000]])])
      // The first batch comes whole whatever max_bytes says: 15 kB over the minimum window of 10 s is 1.5 kB/s,
      // above 1 kB/s.
      const throttled = yield* callAs(Fetch.make, 12, fetchRequest(), "reader")
      assert.isAbove(throttled.throttleTimeMs, 0)
      assert.deepStrictEqual(throttled.responses, [])
      // The 15 kB not sent were not counted: the next 3 kB (300 B/s) are served at once.
      const next = yield* callAs(Fetch.make, 12, fetchRequest(1 << 20, 1), "reader")
      assert.strictEqual(next.throttleTimeMs, 0)
      assert.strictEqual(next.responses[0]!.partitions[0]!.errorCode, 0)
      const bytes = next.responses[0]!.partitions[0]!.records!.length
      assert.isAbove(bytes, 3_000)
      assert.isBelow(bytes, 4_000)
      // Another client has no quota.
      const other = yield* callAs(Fetch.make, 12, fetchRequest(), "someone-else")
      assert.strictEqual(other.throttleTimeMs, 0)
    }).pipe(Effect.provide(broker({ topics: { [TOPIC]: 1 } }))))

  it.effect("max_bytes is capped at what a quiet window allows (quota × (samples - 1) × window)", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 3; i++) yield* callAs(Produce.make, 9, produceRequest(5_000), "producer")
      const all = (yield* callAs(Fetch.make, 12, fetchRequest(), "reader")).responses[0]!.partitions[0]!.records!.length
      assert.isAbove(all, 15_000)
      // 1000 B/s × 10 s: at most 10 kB per fetch, so one batch of 5 kB, not two (10.1 kB) or three.
      yield* alter([entry([["client-id", "reader"]], [["consumer_byte_rate", 1000]])])
      yield* TestClock.adjust(20_000)
      const response = yield* callAs(Fetch.make, 12, fetchRequest(), "reader")
      assert.strictEqual(response.throttleTimeMs, 0)
      const bytes = response.responses[0]!.partitions[0]!.records!.length
      assert.strictEqual(bytes, all / 3)
    }).pipe(Effect.provide(broker({ topics: { [TOPIC]: 1 } }))))
})

// ---------------------------------------------------------------------------------------------------------
// DescribeQuorum

describe("DescribeQuorum", () => {
  const request = { topics: [{ topicName: "__cluster_metadata", partitions: [{ partitionIndex: 0 }] }] }

  it.effect.each([0, 1, 2])("v%i: this node leads and is the only voter, at the metadata log's end", (version) =>
    Effect.andThen(TestClock.setTime(1_700_000_000_000), Effect.gen(function*() {
      const { endOffset, epoch } = yield* (yield* ClusterMetadata).log
      assert.isAbove(endOffset, 0)
      const response = yield* callResponse(DescribeQuorum.make, version, request)
      const partition = response.topics[0]!.partitions[0]!
      assert.deepStrictEqual(response.topics.map((t) => t.topicName), ["__cluster_metadata"])
      assert.strictEqual(response.errorCode, 0)
      assert.deepStrictEqual(
        [partition.errorCode, partition.leaderId, partition.leaderEpoch, partition.highWatermark],
        [0, 1, epoch, endOffset]
      )
      assert.deepStrictEqual(partition.currentVoters, [{
        replicaId: 1,
        replicaDirectoryId: ZERO_UUID,
        logEndOffset: endOffset,
        lastFetchTimestamp: version >= 1 ? 1_700_000_000_000 : -1,
        lastCaughtUpTimestamp: version >= 1 ? 1_700_000_000_000 : -1
      }])
      assert.deepStrictEqual(partition.observers, [])
      assert.deepStrictEqual(response.nodes, version >= 2 ? [{ nodeId: 1, listeners: [{ name: "PLAINTEXT", host: "127.0.0.1", port: 9092 }] }] : [])
    }).pipe(Effect.provide(broker({ topics: { t: 1 } })))))

  it.effect("follows the metadata log as it grows", () =>
    Effect.gen(function*() {
      const before = (yield* callResponse(DescribeQuorum.make, 2, request)).topics[0]!.partitions[0]!.highWatermark
      yield* alter([entry([["user", "x"]], [["producer_byte_rate", 1], ["consumer_byte_rate", 2]])])
      const after = (yield* callResponse(DescribeQuorum.make, 2, request)).topics[0]!.partitions[0]!.highWatermark
      assert.strictEqual(after, before + 2)
    }).pipe(Effect.provide(broker({ topics: { t: 1 } }))))

  it.effect("another topic or partition: UNKNOWN_TOPIC_OR_PARTITION for each one named", () =>
    Effect.gen(function*() {
      const response = yield* callResponse(DescribeQuorum.make, 2, {
        topics: [{ topicName: "__cluster_metadata", partitions: [{ partitionIndex: 1 }] }, { topicName: "other", partitions: [{ partitionIndex: 0 }] }]
      })
      assert.deepStrictEqual(
        response.topics.map((t) => [t.topicName, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.errorMessage])]),
        [
          ["__cluster_metadata", [[1, 3, "This server does not host this topic-partition."]]],
          ["other", [[0, 3, "This server does not host this topic-partition."]]]
        ]
      )
    }).pipe(Effect.provide(broker())))
})

// ---------------------------------------------------------------------------------------------------------
// Features

const apiVersions = (version: number) => callResponse(ApiVersions.make(() => []), version, { clientSoftwareName: "t", clientSoftwareVersion: "1" })

const features = (version = 2, ...updates: ReadonlyArray<readonly [feature: string, level: number, upgradeType?: number]>) =>
  callResponse(UpdateFeatures.make, version, {
    timeoutMs: 60_000,
    featureUpdates: updates.map(([feature, maxVersionLevel, upgradeType = 1]) => ({
      feature,
      maxVersionLevel,
      allowDowngrade: upgradeType !== 1,
      upgradeType
    })),
    validateOnly: false
  })

const finalized = Effect.map(apiVersions(4), (r) =>
  Object.fromEntries((r.finalizedFeatures ?? []).map((f) => [f.name, [f.minVersionLevel, f.maxVersionLevel]])))

describe("ApiVersions features", () => {
  it.effect("v4 lists every supported feature; v3 leaves out those with minimum 0, as Kafka does", () =>
    Effect.gen(function*() {
      const v4 = yield* apiVersions(4)
      assert.deepStrictEqual(v4.supportedFeatures, [
        { name: "metadata.version", minVersion: 7, maxVersion: 27 },
        { name: "kraft.version", minVersion: 0, maxVersion: 0 },
        { name: "transaction.version", minVersion: 0, maxVersion: 1 },
        { name: "group.version", minVersion: 0, maxVersion: 1 }
      ])
      const v3 = yield* apiVersions(3)
      assert.deepStrictEqual(v3.supportedFeatures, [{ name: "metadata.version", minVersion: 7, maxVersion: 27 }])
      // Finalized: metadata.version from the log; the epoch is the offset of the last metadata record.
      const { endOffset } = yield* (yield* ClusterMetadata).log
      assert.deepStrictEqual(v4.finalizedFeatures, [
        { name: "metadata.version", minVersionLevel: DEFAULT_METADATA_VERSION, maxVersionLevel: DEFAULT_METADATA_VERSION }
      ])
      assert.strictEqual(v4.finalizedFeaturesEpoch, endOffset - 1)
      // v0-v2 have no features at all.
      const v2 = yield* apiVersions(2)
      assert.deepStrictEqual([v2.supportedFeatures, v2.finalizedFeatures, v2.finalizedFeaturesEpoch], [[], [], -1])
    }).pipe(Effect.provide(broker({ topics: { t: 1 } }))))

  it.effect("a metadata log without records: metadata.version is the default, the epoch unknown (-1)", () =>
    Effect.gen(function*() {
      const response = yield* apiVersions(3)
      assert.strictEqual(response.finalizedFeaturesEpoch, -1)
      assert.deepStrictEqual(response.finalizedFeatures?.map((f) => f.name), ["metadata.version"])
    }).pipe(Effect.provide(broker())))
})

describe("UpdateFeatures", () => {
  it.effect("upgrades and downgrades finalized levels, kept as FeatureLevelRecords over a restart", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const options = { topics: { t: 1 } }
      const up = yield* features(1, ["metadata.version", 25], ["transaction.version", 1]).pipe(Effect.provide(layer(fs, options)))
      assert.deepStrictEqual(up, {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        results: [
          { feature: "metadata.version", errorCode: 0, errorMessage: null },
          { feature: "transaction.version", errorCode: 0, errorMessage: null }
        ]
      })
      assert.deepStrictEqual(yield* finalized.pipe(Effect.provide(layer(fs, options))), {
        "metadata.version": [25, 25],
        "transaction.version": [1, 1]
      })
      // 25 → 24: no metadata record changed in between, so a safe downgrade is allowed; level 0 removes a feature.
      const down = yield* features(2, ["metadata.version", 24, 2], ["transaction.version", 0, 2]).pipe(Effect.provide(layer(fs, options)))
      assert.deepStrictEqual(down, { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results: [] })
      assert.deepStrictEqual(yield* finalized.pipe(Effect.provide(layer(fs, options))), { "metadata.version": [24, 24] })
    }))

  it.effect("validate_only writes nothing", () =>
    Effect.gen(function*() {
      const response = yield* callResponse(UpdateFeatures.make, 1, {
        timeoutMs: 1000,
        featureUpdates: [{ feature: "metadata.version", maxVersionLevel: 27, allowDowngrade: false, upgradeType: 1 }],
        validateOnly: true
      })
      assert.strictEqual(response.errorCode, 0)
      assert.deepStrictEqual(yield* finalized, { "metadata.version": [DEFAULT_METADATA_VERSION, DEFAULT_METADATA_VERSION] })
    }).pipe(Effect.provide(broker({ topics: { t: 1 } }))))

  it.effect("v0: allow_downgrade stands for a safe downgrade", () =>
    Effect.gen(function*() {
      const refused = yield* features(0, ["metadata.version", 20, 1])
      assert.strictEqual(refused.errorCode, ErrorCode.INVALID_UPDATE_VERSION)
      // 21 → 20 crosses no change of the metadata records.
      const allowed = yield* features(0, ["metadata.version", 20, 2])
      assert.strictEqual(allowed.errorCode, 0)
      assert.deepStrictEqual((yield* finalized)["metadata.version"], [20, 20])
    }).pipe(Effect.provide(broker({ topics: { t: 1 } }))))

  it.effect("refuses what Kafka's controller refuses: INVALID_UPDATE_VERSION for the whole request, nothing written", () =>
    Effect.gen(function*() {
      const prefix = "The update failed for all features since the following feature had an error: "
      const cases: ReadonlyArray<readonly [ReadonlyArray<readonly [string, number, number?]>, string]> = [
        [[["metadata.version", 28]], "Invalid update version 28 for feature metadata.version. Local controller 1 only supports versions 7-27"],
        [[["metadata.version", 6, 2]], "Invalid update version 6 for feature metadata.version. Local controller 1 only supports versions 7-27"],
        [[["metadata.version", 20]], "Invalid update version 20 for feature metadata.version. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade."],
        [[["metadata.version", 22, 2]], "Invalid update version 22 for feature metadata.version. Can't downgrade to a newer version."],
        [[["metadata.version", 16, 2]], "Invalid metadata.version 16. Refusing to perform the requested downgrade because it might delete metadata information."],
        [[["metadata.version", 16, 3]], "Invalid metadata.version 16. Unsafe metadata downgrade is not supported in this version."],
        [[["metadata.version", 23, 9]], "Invalid update version 23 for feature metadata.version. The controller does not support the given upgrade type."],
        [[["kraft.version", 1]], "Invalid update version 1 for feature kraft.version. Local controller 1 does not support this feature."],
        [[["group.version", 2]], "Invalid update version 2 for feature group.version. Local controller 1 only supports versions 0-1"],
        [[["transaction.version", 2]], "Invalid update version 2 for feature transaction.version. Local controller 1 only supports versions 0-1"],
        [[["transaction.version", -1, 2]], "Invalid update version -1 for feature transaction.version. A feature version cannot be less than 0."],
        [[["no.such.feature", 1]], "Invalid update version 1 for feature no.such.feature. Local controller 1 does not support this feature."],
        [[["no.such.feature", 0]], "Invalid update version 0 for feature no.such.feature. Feature no.such.feature not found."],
        // One refusal refuses the others.
        [[["transaction.version", 1], ["metadata.version", 99]], "Invalid update version 99 for feature metadata.version. Local controller 1 only supports versions 7-27"]
      ]
      for (const [updates, message] of cases) {
        for (const version of [1, 2]) {
          const response = yield* features(version, ...updates)
          assert.deepStrictEqual(response, { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: prefix + message, results: [] })
        }
      }
      assert.deepStrictEqual(yield* finalized, { "metadata.version": [DEFAULT_METADATA_VERSION, DEFAULT_METADATA_VERSION] })
    }).pipe(Effect.provide(broker({ topics: { t: 1 } }))))
})
