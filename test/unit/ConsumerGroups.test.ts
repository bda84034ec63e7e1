// The consumer group protocol (KIP-848). First the pure core (services/group/ConsumerGroups.ts) driven directly:
// joins, epochs, revocation before assignment, leaves, timers (as the commands it answers), both assignors,
// regular expressions, static members, errors, and the records it writes replayed into a fresh state. Then the
// live coordinator over the TestClock through the handlers (requests and responses through their codecs):
// session timeouts, offsets with member epochs, ListGroups/DescribeGroups/DeleteGroups, a classic group of the
// same id, metadata changes, and a restart that keeps the group.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as LiveCoordinator from "../../src/layers/group/GroupCoordinator.ts"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ErrorCode } from "../../src/protocol/ErrorCode.ts"
import { decodeConsumerGroupRecord, encodeConsumerGroupRecord } from "../../src/protocol/GroupRecords.ts"
import * as ConsumerGroupDescribe from "../../src/services/api/ConsumerGroupDescribe.ts"
import * as ConsumerGroupHeartbeat from "../../src/services/api/ConsumerGroupHeartbeat.ts"
import * as CreatePartitions from "../../src/services/api/CreatePartitions.ts"
import * as DeleteGroups from "../../src/services/api/DeleteGroups.ts"
import * as DescribeGroups from "../../src/services/api/DescribeGroups.ts"
import * as JoinGroup from "../../src/services/api/JoinGroup.ts"
import * as ListGroups from "../../src/services/api/ListGroups.ts"
import * as OffsetCommit from "../../src/services/api/OffsetCommit.ts"
import * as OffsetDelete from "../../src/services/api/OffsetDelete.ts"
import * as OffsetFetch from "../../src/services/api/OffsetFetch.ts"
import * as C from "../../src/services/group/ConsumerGroups.ts"
import { callResponse, layer, topicIdOf } from "../support/TestLayers.ts"

// ---------------------------------------------------------------------------------------------------------
// The core

/** Topic ids are UUIDs (as the records store them); tests name topics, `nameOf` maps back. */
const idOf = (name: string) => topicIdOf(name)
const names = new Map<string, string>()
const nameOf = (id: string) => names.get(id) ?? id
const topics = (spec: Record<string, number>): C.TopicsView => {
  for (const name of [...Object.keys(spec), "x", "y"]) names.set(idOf(name), name)
  return {
    byName: new Map(Object.entries(spec).map(([name, n]) => [name, { id: idOf(name), partitions: n }])),
    byId: new Map(Object.entries(spec).map(([name, n]) => [idOf(name), { name, partitions: n }]))
  }
}

const CONFIG: C.ConsumerGroupsConfig = { sessionTimeoutMs: 45_000, heartbeatIntervalMs: 5_000, maxSize: 3, assignors: ["uniform", "range"] }

const request = (memberId: string, memberEpoch: number, extra: Partial<C.HeartbeatRequest> = {}): C.HeartbeatRequest => ({
  groupId: "g",
  memberId,
  memberEpoch,
  instanceId: null,
  rackId: null,
  rebalanceTimeoutMs: memberEpoch === 0 ? 60_000 : -1,
  subscribedTopicNames: memberEpoch === 0 ? ["t"] : null,
  subscribedTopicRegex: null,
  serverAssignor: null,
  topicPartitions: memberEpoch === 0 ? [] : null,
  clientId: "client",
  clientHost: "/127.0.0.1",
  apiVersion: 1,
  ...extra
})

/** A fresh core, its topics, and a heartbeat that keeps every record it writes (to replay). */
const core = (spec: Record<string, number> = { t: 4 }, config = CONFIG) => {
  const s = C.make(config, () => "generated")
  let view = topics(spec)
  const records: Array<C.ConsumerRecord> = []
  const commands: Array<C.Command> = []
  const keep = (cs: ReadonlyArray<C.Command>) => {
    commands.push(...cs)
    for (const c of cs) if (c._tag === "Write") records.push(c.record)
  }
  const hb = (r: C.HeartbeatRequest, classic: C.ClassicCheck = () => "none") => {
    const o = C.heartbeat(s, r, view, classic)
    keep(o.commands)
    return o.result
  }
  const ok = (r: C.HeartbeatRequest) => {
    const result = hb(r)
    if ("_tag" in result) throw new Error(`heartbeat failed: ${result._tag}`)
    return result
  }
  return {
    s,
    records,
    commands,
    hb,
    ok,
    fire: (timer: C.Timer) => keep(C.fire(s, timer, view)),
    setTopics: (next: Record<string, number>) => void (view = topics(next)),
    group: () => s.groups.get("g")!
  }
}

/** An assignment as "topic:partition" strings. */
const tps = (a: C.Assignment | null) =>
  a === null ? null : [...a].flatMap(([t, ps]) => ps.map((p) => `${nameOf(t)}:${p}`)).sort()
const owned = (list: ReadonlyArray<string>) => {
  const m = new Map<string, Array<number>>()
  for (const s of list) {
    const [t, p] = s.split(":")
    m.set(idOf(t!), [...(m.get(idOf(t!)) ?? []), Number(p)])
  }
  return [...m].map(([topicId, partitions]) => ({ topicId, partitions }))
}

describe("ConsumerGroups core: joining and reconciling", () => {
  it("a first member joins at epoch 1 with every partition; its next heartbeats carry no assignment", () => {
    const c = core()
    const joined = c.ok(request("a", 0))
    assert.deepStrictEqual([joined.memberId, joined.memberEpoch, joined.heartbeatIntervalMs], ["a", 1, 5_000])
    assert.deepStrictEqual(tps(joined.assignment), ["t:0", "t:1", "t:2", "t:3"])
    const next = c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1", "t:2", "t:3"]) }))
    assert.deepStrictEqual([next.memberEpoch, next.assignment], [1, null])
    assert.strictEqual(C.groupState(c.group()), "Stable")
    // A session timer per heartbeat.
    assert.isTrue(c.commands.some((cmd) => cmd._tag === "Start" && cmd.key === "consumer-session:g:a" && cmd.delayMs === 45_000))
  })

  it("v0 without a member id: the coordinator names it; v1 requires one", () => {
    const c = core()
    assert.strictEqual(c.ok(request("", 0, { apiVersion: 0 })).memberId, "generated")
    const refused = c.hb(request("", 0))
    assert.isTrue("_tag" in refused && refused.code === ErrorCode.INVALID_REQUEST)
  })

  it("a second member: the first revokes before the second gets them; never owned twice", () => {
    const c = core()
    c.ok(request("a", 0))
    c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1", "t:2", "t:3"]) }))
    // b joins: group epoch 2; b gets epoch 2 but nothing yet (a still owns its partitions).
    const b = c.ok(request("b", 0))
    assert.deepStrictEqual([b.memberEpoch, tps(b.assignment)], [2, []])
    assert.strictEqual(c.group().members.get("b")!.state, C.MemberState.UNRELEASED_PARTITIONS)
    assert.strictEqual(C.groupState(c.group()), "Reconciling")
    // a is told to keep two: it stays at epoch 1 (UNREVOKED_PARTITIONS) until it acknowledges.
    const a = c.ok(request("a", 1))
    assert.deepStrictEqual([a.memberEpoch, tps(a.assignment)], [1, ["t:0", "t:1"]])
    assert.strictEqual(c.group().members.get("a")!.state, C.MemberState.UNREVOKED_PARTITIONS)
    assert.isTrue(c.commands.some((cmd) => cmd._tag === "Start" && cmd.key === "consumer-rebalance:g:a" && cmd.delayMs === 60_000))
    // b still gets nothing while a has not released them.
    assert.deepStrictEqual(c.ok(request("b", 2, { topicPartitions: [] })).assignment, null)
    // A heartbeat still owning them does not release them.
    assert.strictEqual(c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1", "t:2", "t:3"]) })).memberEpoch, 1)
    // a acknowledges: epoch 2, Stable.
    const acked = c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1"]) }))
    assert.deepStrictEqual([acked.memberEpoch, acked.assignment], [2, null])
    assert.isTrue(c.commands.some((cmd) => cmd._tag === "Stop" && cmd.key === "consumer-rebalance:g:a"))
    // b's next heartbeat gets the released partitions.
    const got = c.ok(request("b", 2, { topicPartitions: [] }))
    assert.deepStrictEqual([got.memberEpoch, tps(got.assignment)], [2, ["t:2", "t:3"]])
    c.ok(request("b", 2, { topicPartitions: owned(["t:2", "t:3"]) }))
    assert.strictEqual(C.groupState(c.group()), "Stable")
  })

  it("a member that leaves (epoch -1) is removed; the other takes its partitions at a new epoch", () => {
    const c = core()
    c.ok(request("a", 0))
    c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1", "t:2", "t:3"]) }))
    c.ok(request("b", 0))
    c.ok(request("a", 1))
    c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1"]) }))
    c.ok(request("b", 2, { topicPartitions: [] }))
    const left = c.ok(request("b", -1))
    assert.strictEqual(left.memberEpoch, -1)
    assert.strictEqual(c.group().groupEpoch, 3)
    const a = c.ok(request("a", 2, { topicPartitions: owned(["t:0", "t:1"]) }))
    assert.deepStrictEqual([a.memberEpoch, tps(a.assignment)], [3, ["t:0", "t:1", "t:2", "t:3"]])
    // The departed member is unknown now.
    const gone = c.hb(request("b", 2))
    assert.isTrue("_tag" in gone && gone.code === ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it("session and rebalance timeouts remove the member", () => {
    const c = core()
    c.ok(request("a", 0))
    c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1", "t:2", "t:3"]) }))
    c.ok(request("b", 0))
    c.fire({ _tag: "ConsumerSession", groupId: "g", memberId: "b" })
    assert.deepStrictEqual([...c.group().members.keys()], ["a"])
    c.ok(request("b2", 0))
    c.ok(request("a", 1))
    // a never acknowledges the revocation: its rebalance timeout fences it.
    c.fire({ _tag: "ConsumerRebalance", groupId: "g", memberId: "a", memberEpoch: 1 })
    assert.deepStrictEqual([...c.group().members.keys()], ["b2"])
    const fenced = c.hb(request("a", 1))
    assert.isTrue("_tag" in fenced && fenced.code === ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it("epochs: newer is fenced, older only when it is the previous one and owns no more than assigned", () => {
    const c = core()
    c.ok(request("a", 0))
    const newer = c.hb(request("a", 5))
    assert.isTrue("_tag" in newer && newer.code === ErrorCode.FENCED_MEMBER_EPOCH)
    c.ok(request("b", 0)) // epoch 2
    c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1", "t:2", "t:3"]) }))
    c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1"]) })) // a at 2, previous 1
    // A retried heartbeat of the previous epoch with what it owns: accepted.
    assert.strictEqual(c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1"]) })).memberEpoch, 2)
    const older = c.hb(request("a", 1, { topicPartitions: owned(["t:0", "t:1", "t:2"]) }))
    assert.isTrue("_tag" in older && older.code === ErrorCode.FENCED_MEMBER_EPOCH)
    // Fenced, it rejoins at epoch 0 and gets its target again.
    const rejoined = c.ok(request("a", 0))
    assert.deepStrictEqual(tps(rejoined.assignment), ["t:0", "t:1"])
  })

  it("join errors: missing fields, unknown assignor, bad regex, group full, a busy classic group", () => {
    const c = core()
    const code = (r: C.HeartbeatRequest, classic: C.ClassicCheck = () => "none") => {
      const result = c.hb(r, classic)
      return "_tag" in result ? result.code : ErrorCode.NONE
    }
    assert.strictEqual(code(request("a", 0, { subscribedTopicNames: null })), ErrorCode.INVALID_REQUEST)
    assert.strictEqual(code(request("a", 0, { rebalanceTimeoutMs: -1 })), ErrorCode.INVALID_REQUEST)
    assert.strictEqual(code(request("a", 0, { topicPartitions: null })), ErrorCode.INVALID_REQUEST)
    assert.strictEqual(code(request("a", 0, { serverAssignor: "sticky" })), ErrorCode.UNSUPPORTED_ASSIGNOR)
    assert.strictEqual(code(request("a", 0, { subscribedTopicRegex: "(" })), ErrorCode.INVALID_REGULAR_EXPRESSION)
    assert.strictEqual(code(request("a", 0, { groupId: "" })), ErrorCode.INVALID_GROUP_ID)
    assert.strictEqual(code(request("a", 0), () => "busy"), ErrorCode.GROUP_ID_NOT_FOUND)
    assert.strictEqual(code(request("a", 3)), ErrorCode.GROUP_ID_NOT_FOUND)
    for (const id of ["a", "b", "c"]) assert.strictEqual(code(request(id, 0)), ErrorCode.NONE)
    assert.strictEqual(code(request("d", 0)), ErrorCode.GROUP_MAX_SIZE_REACHED)
  })
})

describe("ConsumerGroups core: assignors, subscriptions, metadata", () => {
  const members = (spec: Record<string, Array<string>>): Array<C.AssignorMember> =>
    Object.entries(spec).map(([memberId, ts]) => ({ memberId, topics: new Set(ts.map(idOf)) }))
  const show = (a: Map<string, C.Assignment>) => Object.fromEntries([...a].map(([m, x]) => [m, tps(x)!]))

  it("uniform balances within one across members and keeps what it can", () => {
    topics({})
    const partitions = new Map([[idOf("x"), 3], [idOf("y"), 2]])
    const first = C.uniformAssignor(members({ a: ["x", "y"], b: ["x", "y"] }), partitions, new Map())
    const counts = [...first.values()].map(C.assignmentSize).sort()
    assert.deepStrictEqual(counts, [2, 3])
    // A third member: each keeps its previous partitions up to the new share.
    const second = C.uniformAssignor(members({ a: ["x", "y"], b: ["x", "y"], c: ["x", "y"] }), partitions, first)
    assert.deepStrictEqual([...second.values()].map(C.assignmentSize).sort(), [1, 2, 2])
    for (const m of ["a", "b"]) {
      for (const [t, p] of [...second.get(m)!].flatMap(([t, ps]) => ps.map((p) => [t, p] as const))) {
        assert.isTrue(first.get(m)!.get(t)!.includes(p), `${m} kept ${t}:${p}`)
      }
    }
    // Mixed subscriptions: each only gets topics it subscribes to.
    const mixed = C.uniformAssignor(members({ a: ["x"], b: ["x", "y"] }), partitions, new Map())
    assert.isTrue([...mixed.get("a")!.keys()].every((t) => t === idOf("x")))
    assert.strictEqual(C.assignmentSize(mixed.get("a")!) + C.assignmentSize(mixed.get("b")!), 5)
  })

  it("range cuts each topic in contiguous ranges in member id order", () => {
    const got = C.rangeAssignor(members({ b: ["x", "y"], a: ["x", "y"] }), new Map([[idOf("x"), 3], [idOf("y"), 2]]), new Map())
    assert.deepStrictEqual(show(got), { a: ["x:0", "x:1", "y:0"], b: ["x:2", "y:1"] })
  })

  it("the member may name the assignor; the broker's first is the default", () => {
    const c = core()
    c.ok(request("a", 0, { serverAssignor: "range" }))
    assert.strictEqual(C.describe(c.s, c.group()).assignorName, "range")
    const d = core()
    d.ok(request("a", 0))
    assert.strictEqual(C.describe(d.s, d.group()).assignorName, "uniform")
  })

  it("a regular expression subscribes to matching topics (not internal ones); a new matching topic bumps the epoch", () => {
    const c = core({ "orders-eu": 1, "orders-us": 1, "payments": 1, "__consumer_offsets": 1 })
    const joined = c.ok(request("a", 0, { subscribedTopicNames: null, subscribedTopicRegex: "orders-.*" }))
    assert.deepStrictEqual(tps(joined.assignment), ["orders-eu:0", "orders-us:0"])
    c.setTopics({ "orders-eu": 1, "orders-us": 1, "orders-asia": 2, "payments": 1, "__consumer_offsets": 1 })
    const next = c.ok(request("a", 1, { topicPartitions: owned(["orders-eu:0", "orders-us:0"]) }))
    assert.deepStrictEqual([next.memberEpoch, tps(next.assignment)], [2, ["orders-asia:0", "orders-asia:1", "orders-eu:0", "orders-us:0"]])
    assert.isTrue(C.compileRegex("(?i)ORDERS") !== undefined && C.compileRegex("(?i)ORDERS")!.test("orders"))
    // Java's literal quoting.
    assert.deepStrictEqual([C.compileRegex("\\Qa.b\\E-.*")!.test("a.b-x"), C.compileRegex("\\Qa.b\\E-.*")!.test("axb-x")], [true, false])
  })

  it("partitions added and topics deleted change the target at the next heartbeat", () => {
    const c = core({ t: 2, u: 1 })
    c.ok(request("a", 0, { subscribedTopicNames: ["t", "u"] }))
    c.setTopics({ t: 3 })
    const next = c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1", "u:0"]) }))
    assert.deepStrictEqual([next.memberEpoch, tps(next.assignment)], [2, ["t:0", "t:1", "t:2"]])
  })
})

describe("ConsumerGroups core: static members and replay", () => {
  it("records in Kafka's byte format: keys versioned by record type, values version 0 and flexible", () => {
    const hex = (b: Uint8Array | null) => b === null ? null : Buffer.from(b).toString("hex")
    const metadata = encodeConsumerGroupRecord({ type: 3, groupId: "g", value: { epoch: 5, metadataHash: 0 } })
    assert.deepStrictEqual([hex(metadata.key), hex(metadata.value)], ["0003000167", "00000000000500"])
    // The 4.1 metadata hash is tagged field 0.
    const hashed = encodeConsumerGroupRecord({ type: 3, groupId: "g", value: { epoch: 5, metadataHash: 1 } })
    assert.strictEqual(hex(hashed.value), "0000000000050100080000000000000001")
    const tombstone = encodeConsumerGroupRecord({ type: 5, groupId: "g", memberId: "m", value: null })
    assert.deepStrictEqual([hex(tombstone.key), tombstone.value], ["00050001670001" + "6d", null])
    const target = encodeConsumerGroupRecord({
      type: 7, groupId: "g", memberId: "m",
      value: { topicPartitions: [{ topicId: "00000000-0000-0000-0000-000000000001", partitions: [2] }] }
    })
    assert.strictEqual(hex(target.value), "0000" + "02" + "00000000000000000000000000000001" + "02" + "00000002" + "00" + "00")
  })


  it("a static member leaving with -2 keeps its partitions; rejoining under a new id gets them back, same epoch", () => {
    const c = core()
    c.ok(request("a", 0, { instanceId: "i-a" }))
    c.ok(request("b", 0))
    c.ok(request("a", 1))
    c.ok(request("a", 1, { topicPartitions: owned(["t:0", "t:1"]) }))
    c.ok(request("b", 2, { topicPartitions: [] }))
    const epoch = c.group().groupEpoch
    const seen = c.commands.length
    assert.strictEqual(c.ok(request("a", -2, { instanceId: "i-a" })).memberEpoch, -2)
    // A full session to come back in.
    assert.isTrue(c.commands.slice(seen).some((cmd) => cmd._tag === "Start" && cmd.key === "consumer-session:g:a" && cmd.delayMs === 45_000))
    // Nothing moved: its partitions stay its own.
    assert.strictEqual(c.group().groupEpoch, epoch)
    assert.deepStrictEqual(tps(c.group().members.get("b")!.assigned), ["t:2", "t:3"])
    // Another member with that instance id while it is in the group is refused.
    const back = c.ok(request("a2", 0, { instanceId: "i-a" }))
    assert.deepStrictEqual([back.memberId, back.memberEpoch, tps(back.assignment)], ["a2", 2, ["t:0", "t:1"]])
    assert.isFalse(c.group().members.has("a"))
    const dup = c.hb(request("a3", 0, { instanceId: "i-a" }))
    assert.isTrue("_tag" in dup && dup.code === ErrorCode.UNRELEASED_INSTANCE_ID)
  })

  it("the records written, through their byte format, rebuild the same groups", () => {
    const c = core()
    c.ok(request("a", 0, { instanceId: "i-a", serverAssignor: "range" }))
    c.ok(request("b", 0))
    c.ok(request("a", 1))
    c.ok(request("c", 0))
    c.ok(request("c", -1))
    const s = C.make(CONFIG, () => "x")
    for (const r of c.records) {
      // Through Kafka's byte format and back, as the coordinator writes and reads them.
      const { toRecord, fromRecord } = recordsCodec
      const bytes = encodeConsumerGroupRecord(toRecord(r))
      C.replay(s, fromRecord(decodeConsumerGroupRecord(bytes.key, bytes.value)!))
    }
    const [before, after] = [c.group(), s.groups.get("g")!]
    assert.deepStrictEqual([after.groupEpoch, after.assignmentEpoch], [before.groupEpoch, before.assignmentEpoch])
    assert.deepStrictEqual([...after.members.keys()].sort(), [...before.members.keys()].sort())
    for (const [id, m] of before.members) {
      const r = after.members.get(id)!
      assert.deepStrictEqual(
        [r.memberEpoch, r.previousMemberEpoch, r.state, tps(r.assigned), tps(r.pendingRevocation), r.instanceId, r.serverAssignor, [...r.subscribedTopicNames]],
        [m.memberEpoch, m.previousMemberEpoch, m.state, tps(m.assigned), tps(m.pendingRevocation), m.instanceId, m.serverAssignor, [...m.subscribedTopicNames]]
      )
      assert.deepStrictEqual(tps(after.target.get(id)!), tps(before.target.get(id)!))
    }
    assert.strictEqual(after.staticMembers.get("i-a"), "a")
  })
})

/** The layer's conversion between the core's records and Kafka's record shapes. */
const recordsCodec = { toRecord: LiveCoordinator.toRecord, fromRecord: LiveCoordinator.fromRecord }

// ---------------------------------------------------------------------------------------------------------
// The live coordinator, through the handlers

const TOPICS = { orders: 4, payments: 2 }
const broker = (fs = MemoryFileSystem.make(), properties: Record<string, string> = {}) => layer(fs, { topics: TOPICS, properties })

const heartbeat = (memberId: string, memberEpoch: number, extra: Partial<Parameters<typeof ConsumerGroupHeartbeat.make.handle>[0]> = {}) =>
  callResponse(ConsumerGroupHeartbeat.make, 1, {
    groupId: "cg",
    memberId,
    memberEpoch,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: memberEpoch === 0 ? 30_000 : -1,
    subscribedTopicNames: memberEpoch === 0 ? ["orders"] : null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: memberEpoch === 0 ? [] : null,
    ...extra
  })

const ORDERS = topicIdOf("orders")

const commit = (memberId: string, epoch: number, offset = 10) =>
  Effect.map(
    callResponse(OffsetCommit.make, 9, {
      groupId: "cg",
      generationIdOrMemberEpoch: epoch,
      memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: "orders", partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }]
    }),
    (r) => r.topics[0]!.partitions[0]!.errorCode
  )

describe("ConsumerGroupHeartbeat and friends over the live coordinator", () => {
  it.effect("join over the wire, heartbeat interval, assignment by topic id; a session timeout removes the member", () =>
    Effect.gen(function*() {
      const joined = yield* heartbeat("m1", 0)
      assert.deepStrictEqual([joined.errorCode, joined.memberId, joined.memberEpoch, joined.heartbeatIntervalMs], [0, "m1", 1, 5000])
      assert.deepStrictEqual(joined.assignment, { topicPartitions: [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }] })
      const d = yield* callResponse(ConsumerGroupDescribe.make, 1, { groupIds: ["cg", "nope"], includeAuthorizedOperations: false })
      assert.deepStrictEqual([d.groups[0]!.groupState, d.groups[0]!.groupEpoch, d.groups[0]!.assignmentEpoch, d.groups[0]!.assignorName], ["Stable", 1, 1, "uniform"])
      assert.deepStrictEqual(d.groups[0]!.members[0]!.assignment.topicPartitions, [{ topicId: ORDERS, topicName: "orders", partitions: [0, 1, 2, 3] }])
      assert.strictEqual(d.groups[0]!.members[0]!.memberType, 1)
      assert.strictEqual(d.groups[1]!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND)
      yield* TestClock.adjust(44_000)
      assert.strictEqual((yield* heartbeat("m1", 1)).errorCode, 0)
      yield* TestClock.adjust(45_001)
      assert.strictEqual((yield* heartbeat("m1", 1)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
      const after = yield* callResponse(ConsumerGroupDescribe.make, 0, { groupIds: ["cg"], includeAuthorizedOperations: false })
      assert.deepStrictEqual([after.groups[0]!.groupState, after.groups[0]!.groupEpoch], ["Empty", 2])
    }).pipe(Effect.provide(broker())))

  it.effect("OffsetCommit with member epochs: stale, fenced, unknown member; OffsetFetch v9 checks the epoch", () =>
    Effect.gen(function*() {
      yield* heartbeat("m1", 0)
      assert.strictEqual(yield* commit("m1", 1), ErrorCode.NONE)
      yield* heartbeat("m2", 0) // group epoch 2
      yield* heartbeat("m1", 1, { topicPartitions: [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }] })
      yield* heartbeat("m1", 1, { topicPartitions: [{ topicId: ORDERS, partitions: [0, 1] }] }) // m1 at 2
      assert.strictEqual(yield* commit("m1", 1), ErrorCode.STALE_MEMBER_EPOCH)
      assert.strictEqual(yield* commit("m1", 3), ErrorCode.FENCED_MEMBER_EPOCH)
      assert.strictEqual(yield* commit("zz", 2), ErrorCode.UNKNOWN_MEMBER_ID)
      assert.strictEqual(yield* commit("m1", 2, 20), ErrorCode.NONE)
      // Outside the group (epoch -1) while it has members: refused.
      assert.strictEqual(yield* commit("", -1), ErrorCode.UNKNOWN_MEMBER_ID)
      const fetch = (memberId: string | null, memberEpoch: number) =>
        callResponse(OffsetFetch.make, 9, {
          groupId: "",
          topics: [],
          groups: [{ groupId: "cg", memberId, memberEpoch, topics: [{ name: "orders", partitionIndexes: [0] }] }],
          requireStable: false
        })
      const ok = yield* fetch("m1", 2)
      assert.deepStrictEqual([ok.groups[0]!.errorCode, ok.groups[0]!.topics[0]!.partitions[0]!.committedOffset], [0, 20])
      assert.strictEqual((yield* fetch("m1", 1)).groups[0]!.errorCode, ErrorCode.STALE_MEMBER_EPOCH)
      assert.strictEqual((yield* fetch("zz", 1)).groups[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
      assert.strictEqual((yield* fetch(null, -1)).groups[0]!.errorCode, ErrorCode.NONE)
      // OffsetDelete: the members subscribe to orders.
      const del = yield* callResponse(OffsetDelete.make, 0, { groupId: "cg", topics: [{ name: "orders", partitions: [{ partitionIndex: 0 }] }] })
      assert.strictEqual(del.topics[0]!.partitions[0]!.errorCode, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC)
    }).pipe(Effect.provide(broker())))

  it.effect("ListGroups shows type consumer and filters by it; DescribeGroups; DeleteGroups once empty; classic JoinGroup refused", () =>
    Effect.gen(function*() {
      yield* heartbeat("m1", 0)
      const list = (typesFilter: Array<string>) =>
        Effect.map(callResponse(ListGroups.make, 5, { statesFilter: [], typesFilter }), (r) => r.groups.map((g) => [g.groupId, g.groupType, g.groupState, g.protocolType]))
      assert.deepStrictEqual(yield* list(["consumer"]), [["cg", "consumer", "Stable", "consumer"]])
      assert.deepStrictEqual(yield* list(["classic"]), [])
      const described = yield* callResponse(DescribeGroups.make, 5, { groups: ["cg"], includeAuthorizedOperations: false })
      assert.deepStrictEqual([described.groups[0]!.groupState, described.groups[0]!.protocolType, described.groups[0]!.members.length], ["Stable", "consumer", 1])
      const join = yield* callResponse(JoinGroup.make, 5, {
        groupId: "cg", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: "", groupInstanceId: null,
        protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }], reason: null
      })
      assert.strictEqual(join.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
      const del = () => Effect.map(callResponse(DeleteGroups.make, 2, { groupsNames: ["cg"] }), (r) => r.results[0]!.errorCode)
      assert.strictEqual(yield* del(), ErrorCode.NON_EMPTY_GROUP)
      yield* heartbeat("m1", -1)
      assert.deepStrictEqual(yield* list([]), [["cg", "consumer", "Empty", "consumer"]])
      assert.strictEqual(yield* del(), ErrorCode.NONE)
      assert.deepStrictEqual(yield* list([]), [])
    }).pipe(Effect.provide(broker())))

  it.effect("partitions added to a subscribed topic reach the member at its next heartbeat", () =>
    Effect.gen(function*() {
      yield* heartbeat("m1", 0, { subscribedTopicNames: ["payments"] })
      yield* callResponse(CreatePartitions.make, 0, { topics: [{ name: "payments", count: 3, assignments: null }], timeoutMs: 1000, validateOnly: false })
      const next = yield* heartbeat("m1", 1, { topicPartitions: [{ topicId: topicIdOf("payments"), partitions: [0, 1] }] })
      assert.deepStrictEqual([next.memberEpoch, next.assignment?.topicPartitions[0]?.partitions], [2, [0, 1, 2]])
    }).pipe(Effect.provide(broker())))

  it.effect("a restart keeps the group, its epochs, its members' assignments and its offsets", () => {
    const fs = MemoryFileSystem.make()
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* heartbeat("m1", 0)
        yield* heartbeat("m2", 0)
        yield* heartbeat("m1", 1, { topicPartitions: [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }] })
        yield* heartbeat("m1", 1, { topicPartitions: [{ topicId: ORDERS, partitions: [0, 1] }] })
        yield* heartbeat("m2", 2, { topicPartitions: [] })
        assert.strictEqual(yield* commit("m2", 2, 33), ErrorCode.NONE)
      }).pipe(Effect.provide(broker(fs)))
      yield* Effect.gen(function*() {
        const d = yield* callResponse(ConsumerGroupDescribe.make, 1, { groupIds: ["cg"], includeAuthorizedOperations: false })
        const g = d.groups[0]!
        assert.deepStrictEqual([g.errorCode, g.groupState, g.groupEpoch, g.assignmentEpoch], [0, "Stable", 2, 2])
        assert.deepStrictEqual(
          g.members.map((m) => [m.memberId, m.memberEpoch, m.assignment.topicPartitions[0]?.partitions]).sort(),
          [["m1", 2, [0, 1]], ["m2", 2, [2, 3]]]
        )
        // The members carry on at their epochs.
        const hb = yield* heartbeat("m2", 2, { topicPartitions: [{ topicId: ORDERS, partitions: [2, 3] }] })
        assert.deepStrictEqual([hb.errorCode, hb.memberEpoch, hb.assignment], [0, 2, null])
        assert.strictEqual(yield* commit("m2", 2, 34), ErrorCode.NONE)
      }).pipe(Effect.provide(broker(fs)))
    })
  })
})
