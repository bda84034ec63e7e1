// The classic group coordinator over the TestClock: the JoinGroup/SyncGroup state machine with its initial
// rebalance delay, rebalance and session timeouts, static members, errors, committed offsets (persisted in
// `__consumer_offsets` in Kafka's record format and replayed at start), and listing, describing and deleting
// groups. Mostly through the service; a few cases through the handlers at the versions real clients send
// (see /work/shared/CLIENTS.md), with requests and responses passing through their codecs.
//
// Parked calls (JoinGroup, SyncGroup) are forked and looked at with `pollUnsafe`; time moves only with
// `TestClock.adjust`, so nothing waits for real.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ErrorCode } from "../../src/protocol/ErrorCode.ts"
import { decodeOffsetKey, decodeOffsetValue } from "../../src/protocol/GroupRecords.ts"
import { decodeRecords } from "../../src/protocol/RecordBatch.ts"
import * as DeleteGroups from "../../src/services/api/DeleteGroups.ts"
import * as DescribeGroups from "../../src/services/api/DescribeGroups.ts"
import * as FindCoordinator from "../../src/services/api/FindCoordinator.ts"
import * as Heartbeat from "../../src/services/api/Heartbeat.ts"
import * as JoinGroup from "../../src/services/api/JoinGroup.ts"
import * as LeaveGroup from "../../src/services/api/LeaveGroup.ts"
import * as ListGroups from "../../src/services/api/ListGroups.ts"
import * as OffsetCommit from "../../src/services/api/OffsetCommit.ts"
import * as OffsetFetch from "../../src/services/api/OffsetFetch.ts"
import * as SyncGroup from "../../src/services/api/SyncGroup.ts"
import {
  GroupCoordinator as Coordinator,
  type JoinRequest,
  type JoinResult as Joined,
  type MemberRef,
  OFFSETS_PARTITION,
  type OffsetToCommit,
  type SyncRequest,
  type SyncResult as Synced
} from "../../src/services/group/GroupCoordinator.ts"
import { batchesIn, callResponse, layer, LOG_DIR, readLog, segmentPath } from "../support/TestLayers.ts"

const TOPICS = { orders: 3, payments: 2 }
const GROUP = "group-1"
const SESSION = 10_000
const REBALANCE = 30_000
/** group.initial.rebalance.delay.ms by default. */
const DELAY = 3_000
/** When several members join an empty group at once: the second one's arrival extends the delay once. */
const DELAY_TOGETHER = 2 * DELAY

// ---------------------------------------------------------------------------------------------------------
// The coordinator's answers as the group APIs answer them: a failure is its error code, in a result of the
// same shape. Each call is then checked by the code a client would read.

type JoinResult = Joined & { readonly errorCode: number }
type SyncResult = Synced & { readonly errorCode: number }

const asCodes = (gc: Coordinator["Service"]) => ({
  ...gc,
  join: (request: JoinRequest): Effect.Effect<JoinResult> =>
    gc.join(request).pipe(
      Effect.map((r) => ({ ...r, errorCode: ErrorCode.NONE })),
      Effect.catch((e) => Effect.succeed({
        errorCode: e.code,
        generationId: -1,
        protocolType: null,
        protocolName: null,
        leader: "",
        memberId: "memberId" in e && e.memberId !== undefined ? e.memberId : request.memberId,
        skipAssignment: false,
        members: []
      }))
    ),
  sync: (request: SyncRequest): Effect.Effect<SyncResult> =>
    gc.sync(request).pipe(
      Effect.map((r) => ({ ...r, errorCode: ErrorCode.NONE })),
      Effect.catch((e) => Effect.succeed({ errorCode: e.code, protocolType: null, protocolName: null, assignment: new Uint8Array(0) }))
    ),
  heartbeat: (groupId: string, generationId: number, member: MemberRef) =>
    gc.heartbeat(groupId, generationId, member).pipe(Effect.as(ErrorCode.NONE as number), Effect.catch((e) => Effect.succeed(e.code))),
  leave: (groupId: string, members: ReadonlyArray<MemberRef>) =>
    gc.leave(groupId, members).pipe(
      Effect.map((r) => ({ errorCode: ErrorCode.NONE as number, members: r.map((e) => e?.code ?? ErrorCode.NONE) })),
      Effect.catch((e) => Effect.succeed({ errorCode: e.code as number, members: [] as Array<number> }))
    ),
  commit: (groupId: string, generationId: number, member: MemberRef, offsets: ReadonlyArray<OffsetToCommit>) =>
    gc.commit(groupId, generationId, member, offsets).pipe(
      Effect.map((r) => ({ errorCode: ErrorCode.NONE as number, partitions: r.map((e) => e?.code ?? ErrorCode.NONE) })),
      Effect.catchIf(
        (e) => e._tag !== "StorageError" && e._tag !== "UnknownTopicOrPartition",
        (e) => Effect.succeed({ errorCode: e.code as number, partitions: offsets.map(() => e.code as number) })
      )
    ),
  delete: (groupId: string) =>
    gc.delete(groupId).pipe(
      Effect.as(ErrorCode.NONE as number),
      Effect.catchTag(["GroupIdNotFound", "NonEmptyGroup"], (e) => Effect.succeed(e.code as number))
    )
})

const coordinator = Effect.map(Effect.service(Coordinator), asCodes)

const enc = (s: string) => new TextEncoder().encode(s)
const dec = (b: Uint8Array) => new TextDecoder().decode(b)

/** The broker's services over a new in-memory file system, with TOPICS. */
const broker = (properties: Record<string, string> = {}) => layer(MemoryFileSystem.make(), { topics: TOPICS, properties })

// ---------------------------------------------------------------------------------------------------------
// Fibers

/** Forks `effect` and lets it run until it parks (or answers). */
const fork = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    yield* Effect.yieldNow
    return fiber
  })

const isParked = (fiber: Fiber.Fiber<unknown, unknown>) => fiber.pollUnsafe() === undefined

/** The answer of a call that has finished (throws if it is still parked). */
const answer = <A, E>(fiber: Fiber.Fiber<A, E>): A => {
  const exit = fiber.pollUnsafe()
  if (exit === undefined) throw new Error("the call is still parked")
  if (!Exit.isSuccess(exit)) throw new Error(`the call failed: ${String(exit.cause)}`)
  return exit.value
}

// ---------------------------------------------------------------------------------------------------------
// Members, through the service

type MemberOptions = Partial<JoinRequest> & { readonly protocolNames?: ReadonlyArray<string> }

/** A JoinGroup of the member `name` (its client id), whose metadata for each protocol names it. */
const request = (name: string, o: MemberOptions = {}): JoinRequest => {
  const { protocolNames = ["range"], ...rest } = o
  return {
    groupId: GROUP,
    memberId: "",
    groupInstanceId: null,
    sessionTimeoutMs: SESSION,
    rebalanceTimeoutMs: REBALANCE,
    protocolType: "consumer",
    protocols: protocolNames.map((p) => ({ name: p, metadata: enc(`${p}:${name}`) })),
    clientId: name,
    clientHost: "/127.0.0.1",
    requireKnownMemberId: true,
    supportsSkipAssignment: false,
    ...rest
  }
}

interface Joining {
  readonly memberId: string
  readonly fiber: Fiber.Fiber<JoinResult>
}

/** JoinGroup v4+: MEMBER_ID_REQUIRED with a new id, then the JoinGroup with that id, left parked. */
const startJoin = (req: JoinRequest) =>
  Effect.gen(function*() {
    const gc = yield* coordinator
    const first = yield* gc.join({ ...req, memberId: "" })
    assert.strictEqual(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED)
    assert.strictEqual(first.generationId, -1)
    assert.isTrue(first.memberId.startsWith(`${req.clientId}-`), first.memberId)
    const fiber = yield* fork(gc.join({ ...req, memberId: first.memberId }))
    return { memberId: first.memberId, fiber } satisfies Joining
  })

/** A JoinGroup with a known member id (or a static member's first one), left parked. */
const rejoin = (req: JoinRequest, memberId: string) => Effect.flatMap(coordinator, (gc) => fork(gc.join({ ...req, memberId })))

const syncRequest = (memberId: string, generationId: number, assignments: Record<string, string> = {}, groupInstanceId: string | null = null) => ({
  groupId: GROUP,
  generationId,
  memberId,
  groupInstanceId,
  protocolType: null,
  protocolName: null,
  assignments: Object.entries(assignments).map(([id, a]) => ({ memberId: id, assignment: enc(a) }))
})

const sync = (memberId: string, generationId: number, assignments: Record<string, string> = {}, groupInstanceId: string | null = null) =>
  Effect.flatMap(coordinator, (gc) => fork(gc.sync(syncRequest(memberId, generationId, assignments, groupInstanceId))))

const heartbeat = (memberId: string, generationId: number, groupInstanceId: string | null = null, groupId = GROUP) =>
  Effect.flatMap(coordinator, (gc) => gc.heartbeat(groupId, generationId, { memberId, groupInstanceId }))

const leave = (...members: ReadonlyArray<{ memberId: string; groupInstanceId?: string | null }>) =>
  Effect.flatMap(coordinator, (gc) =>
    gc.leave(GROUP, members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null }))))

const offset = (topic: string, partition: number, at: number, metadata: string | null = null): OffsetToCommit => ({
  topic,
  partition,
  offset: at,
  leaderEpoch: 0,
  metadata
})

const commit = (memberId: string, generationId: number, offsets: ReadonlyArray<OffsetToCommit>, groupId = GROUP, groupInstanceId: string | null = null) =>
  Effect.flatMap(coordinator, (gc) => gc.commit(groupId, generationId, { memberId, groupInstanceId }, offsets))

const describeGroup = (groupId = GROUP) => Effect.flatMap(coordinator, (gc) => gc.describe(groupId))

const stateOf = (groupId = GROUP) => Effect.map(describeGroup(groupId), (g) => g.state)

const assignmentOf = (name: string) => `assignment of ${name}`

interface StableGroup {
  readonly generation: number
  /** name → member id */
  readonly ids: Record<string, string>
  readonly leader: string
}

/**
 * The members `names` join an empty group together (the first is leader), the initial rebalance delay passes,
 * the leader assigns `assignmentOf(name)` to each, and everyone syncs. Static members when `instances` is set.
 */
const stableGroup = (names: ReadonlyArray<string>, o: MemberOptions = {}, instances = false) =>
  Effect.gen(function*() {
    const joining: Array<Fiber.Fiber<JoinResult>> = []
    for (const name of names) {
      const req = request(name, { ...o, groupInstanceId: instances ? `instance-${name}` : null })
      joining.push(instances ? yield* rejoin(req, "") : (yield* startJoin(req)).fiber)
    }
    yield* TestClock.adjust(names.length > 1 ? DELAY_TOGETHER : DELAY)
    const results = joining.map(answer)
    for (const r of results) assert.strictEqual(r.errorCode, ErrorCode.NONE)
    const ids = Object.fromEntries(names.map((n, i) => [n, results[i]!.memberId]))
    const generation = results[0]!.generationId
    const leader = results[0]!.leader
    assert.strictEqual(leader, ids[names[0]!])
    const followers: Array<Fiber.Fiber<SyncResult>> = []
    for (const name of names.slice(1)) {
      followers.push(yield* sync(ids[name]!, generation, {}, instances ? `instance-${name}` : null))
    }
    const assignments = Object.fromEntries(names.map((n) => [ids[n]!, assignmentOf(n)]))
    const leaderSync = yield* sync(leader, generation, assignments, instances ? `instance-${names[0]}` : null)
    for (const [i, f] of [leaderSync, ...followers].entries()) {
      const r = answer(f)
      assert.strictEqual(r.errorCode, ErrorCode.NONE)
      assert.strictEqual(dec(r.assignment), assignmentOf(names[i]!))
    }
    assert.strictEqual(yield* stateOf(), "Stable")
    return { generation, ids, leader } satisfies StableGroup
  })

// ---------------------------------------------------------------------------------------------------------
// The state machine

describe("GroupCoordinator: joining", () => {
  it.effect("a single member: MEMBER_ID_REQUIRED, the initial delay, generation 1 as leader, sync, Stable, heartbeat", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      // A member id handed out with MEMBER_ID_REQUIRED does not start a rebalance; the JoinGroup with it does.
      const first = yield* gc.join(request("alone"))
      assert.deepStrictEqual([first.errorCode, first.generationId, first.leader], [ErrorCode.MEMBER_ID_REQUIRED, -1, ""])
      assert.strictEqual(yield* stateOf(), "Empty")
      const memberId = first.memberId
      const fiber = yield* fork(gc.join(request("alone", { memberId })))
      assert.isTrue(isParked(fiber))
      assert.strictEqual(yield* stateOf(), "PreparingRebalance")

      yield* TestClock.adjust(DELAY - 1)
      assert.isTrue(isParked(fiber))
      yield* TestClock.adjust(1)
      const joined = answer(fiber)
      assert.deepStrictEqual(
        { ...joined, members: joined.members.map((m) => ({ ...m, metadata: dec(m.metadata) })) },
        {
          errorCode: ErrorCode.NONE,
          generationId: 1,
          protocolType: "consumer",
          protocolName: "range",
          leader: memberId,
          memberId,
          skipAssignment: false,
          members: [{ memberId, groupInstanceId: null, metadata: "range:alone" }]
        }
      )
      assert.strictEqual(yield* stateOf(), "CompletingRebalance")
      // Heartbeats between the JoinGroup and SyncGroup answers are fine.
      assert.strictEqual(yield* heartbeat(memberId, 1), ErrorCode.NONE)

      const synced = answer(yield* sync(memberId, 1, { [memberId]: "mine" }))
      assert.deepStrictEqual({ ...synced, assignment: dec(synced.assignment) }, {
        errorCode: ErrorCode.NONE,
        protocolType: "consumer",
        protocolName: "range",
        assignment: "mine"
      })
      assert.strictEqual(yield* stateOf(), "Stable")
      assert.strictEqual(yield* heartbeat(memberId, 1), ErrorCode.NONE)
      // A SyncGroup again in Stable answers the same assignment at once.
      assert.strictEqual(dec(answer(yield* sync(memberId, 1)).assignment), "mine")
      assert.deepStrictEqual(yield* gc.list, [{ groupId: GROUP, protocolType: "consumer", state: "Stable" }])
    }).pipe(Effect.provide(broker())))

  it.effect("the initial delay extends while new members keep arriving", () =>
    Effect.gen(function*() {
      const a = yield* startJoin(request("a"))
      yield* TestClock.adjust(2000)
      const b = yield* startJoin(request("b")) // t=2000: the delay ending at 3000 is extended to 6000
      yield* TestClock.adjust(3000)
      const c = yield* startJoin(request("c")) // t=5000: the delay ending at 6000 is extended to 9000
      yield* TestClock.adjust(3999)
      for (const j of [a, b, c]) assert.isTrue(isParked(j.fiber))
      yield* TestClock.adjust(1) // t=9000, nobody new since 6000
      const results = [a, b, c].map((j) => answer(j.fiber))
      assert.deepStrictEqual(results.map((r) => [r.errorCode, r.generationId, r.leader, r.members.length]), [
        [0, 1, a.memberId, 3],
        [0, 1, a.memberId, 0],
        [0, 1, a.memberId, 0]
      ])
    }).pipe(Effect.provide(broker())))

  it.effect("the initial delay extends at most up to the rebalance timeout", () =>
    Effect.gen(function*() {
      const o = { rebalanceTimeoutMs: 7000 }
      const a = yield* startJoin(request("a", o))
      yield* TestClock.adjust(1000)
      const b = yield* startJoin(request("b", o)) // extends to 6000
      yield* TestClock.adjust(4000)
      const c = yield* startJoin(request("c", o)) // t=5000: extends to 7000, no further
      yield* TestClock.adjust(1500)
      const d = yield* startJoin(request("d", o)) // t=6500: a newcomer, but the rebalance timeout is reached
      yield* TestClock.adjust(499)
      for (const j of [a, b, c, d]) assert.isTrue(isParked(j.fiber))
      yield* TestClock.adjust(1) // t=7000
      const results = [a, b, c, d].map((j) => answer(j.fiber))
      assert.deepStrictEqual(results.map((r) => r.generationId), [1, 1, 1, 1])
      assert.deepStrictEqual(results[0]!.members.map((m) => m.memberId), [a, b, c, d].map((j) => j.memberId))
    }).pipe(Effect.provide(broker())))

  it.effect("the initial delay is group.initial.rebalance.delay.ms", () =>
    Effect.gen(function*() {
      const a = yield* startJoin(request("a"))
      yield* TestClock.adjust(99)
      assert.isTrue(isParked(a.fiber))
      yield* TestClock.adjust(1)
      assert.strictEqual(answer(a.fiber).generationId, 1)
    }).pipe(Effect.provide(broker({ "group.initial.rebalance.delay.ms": "100" }))))

  it.effect("two members: only the leader gets the members' metadata; a follower's SyncGroup waits for the leader's", () =>
    Effect.gen(function*() {
      const a = yield* startJoin(request("a"))
      const b = yield* startJoin(request("b"))
      // b joined during the initial delay: it is extended once more.
      yield* TestClock.adjust(DELAY)
      assert.isTrue(isParked(a.fiber))
      yield* TestClock.adjust(DELAY)
      const [ra, rb] = [answer(a.fiber), answer(b.fiber)]
      assert.strictEqual(ra.generationId, 1)
      assert.strictEqual(rb.generationId, 1)
      assert.strictEqual(ra.leader, a.memberId)
      assert.strictEqual(rb.leader, a.memberId)
      assert.deepStrictEqual(ra.members.map((m) => [m.memberId, dec(m.metadata)]), [
        [a.memberId, "range:a"],
        [b.memberId, "range:b"]
      ])
      assert.deepStrictEqual(rb.members, [])

      const followerSync = yield* sync(b.memberId, 1)
      yield* TestClock.adjust(5000) // within the rebalance timeout: still waiting
      assert.isTrue(isParked(followerSync))
      assert.strictEqual(yield* stateOf(), "CompletingRebalance")
      // A heartbeat in between keeps the session; the follower is still waiting.
      assert.strictEqual(yield* heartbeat(b.memberId, 1), ErrorCode.NONE)

      const leaderSync = yield* sync(a.memberId, 1, { [a.memberId]: "A", [b.memberId]: "B" })
      assert.strictEqual(dec(answer(leaderSync).assignment), "A")
      const fr = answer(followerSync)
      assert.strictEqual(fr.errorCode, ErrorCode.NONE)
      assert.strictEqual(dec(fr.assignment), "B")
      assert.strictEqual(fr.protocolName, "range")
      assert.strictEqual(yield* stateOf(), "Stable")
    }).pipe(Effect.provide(broker())))

  it.effect("a member the leader leaves out of the assignment gets an empty one", () =>
    Effect.gen(function*() {
      const a = yield* startJoin(request("a"))
      const b = yield* startJoin(request("b"))
      yield* TestClock.adjust(DELAY_TOGETHER)
      const followerSync = yield* sync(b.memberId, 1)
      answer(yield* sync(a.memberId, 1, { [a.memberId]: "everything" }))
      assert.deepStrictEqual(answer(followerSync).assignment, new Uint8Array(0))
    }).pipe(Effect.provide(broker())))

  it.effect("the protocol is the one most members prefer among those every member supports", () =>
    Effect.gen(function*() {
      // "sticky" is a's first choice but c lacks it; among range and roundrobin, two prefer range.
      const a = yield* startJoin(request("a", { protocolNames: ["sticky", "range", "roundrobin"] }))
      const b = yield* startJoin(request("b", { protocolNames: ["roundrobin", "range", "sticky"] }))
      const c = yield* startJoin(request("c", { protocolNames: ["range", "roundrobin"] }))
      yield* TestClock.adjust(DELAY_TOGETHER)
      const results = [a, b, c].map((j) => answer(j.fiber))
      for (const r of results) assert.strictEqual(r.protocolName, "range")
      // The leader gets each member's metadata for the chosen protocol.
      assert.deepStrictEqual(results[0]!.members.map((m) => dec(m.metadata)), ["range:a", "range:b", "range:c"])
    }).pipe(Effect.provide(broker())))

  it.effect("votes decide between protocols all support", () =>
    Effect.gen(function*() {
      const a = yield* startJoin(request("a", { protocolNames: ["range", "roundrobin"] }))
      const b = yield* startJoin(request("b", { protocolNames: ["roundrobin", "range"] }))
      const c = yield* startJoin(request("c", { protocolNames: ["roundrobin", "range"] }))
      yield* TestClock.adjust(DELAY_TOGETHER)
      for (const j of [a, b, c]) assert.strictEqual(answer(j.fiber).protocolName, "roundrobin")
    }).pipe(Effect.provide(broker())))

  it.effect("a member with no protocol in common, or another protocol type, gets INCONSISTENT_GROUP_PROTOCOL", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      const a = yield* startJoin(request("a", { protocolNames: ["range", "roundrobin"] }))
      const noCommon = yield* gc.join(request("x", { protocolNames: ["sticky"] }))
      assert.strictEqual(noCommon.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
      assert.strictEqual(noCommon.memberId, "")
      const otherType = yield* gc.join(request("y", { protocolType: "connect" }))
      assert.strictEqual(otherType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
      // The same for a known member changing to protocols the group cannot use.
      const changed = yield* gc.join(request("a", { memberId: a.memberId, protocolNames: ["sticky"] }))
      assert.strictEqual(changed.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
      assert.strictEqual(changed.memberId, a.memberId)
      // An empty group takes any type, but not an empty one or no protocols at all.
      assert.strictEqual((yield* gc.join(request("z", { groupId: "other", protocolType: "" }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
      assert.strictEqual((yield* gc.join(request("z", { groupId: "other", protocolNames: [] }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
      assert.strictEqual((yield* gc.join(request("z", { groupId: "other", protocolType: "connect" }))).errorCode, ErrorCode.MEMBER_ID_REQUIRED)

      yield* TestClock.adjust(DELAY)
      const ra = answer(a.fiber)
      assert.strictEqual(ra.errorCode, ErrorCode.NONE)
      assert.deepStrictEqual(ra.members.map((m) => m.memberId), [a.memberId])
    }).pipe(Effect.provide(broker())))
})

describe("GroupCoordinator: rebalancing", () => {
  it.effect("a third member joining a Stable group: REBALANCE_IN_PROGRESS until the others rejoin, then generation 2", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"])
      const c = yield* startJoin(request("c"))
      assert.strictEqual(yield* stateOf(), "PreparingRebalance")
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.REBALANCE_IN_PROGRESS)
      assert.strictEqual(yield* heartbeat(ids.b!, 1), ErrorCode.REBALANCE_IN_PROGRESS)
      // A SyncGroup of the old generation while preparing is told the same.
      assert.strictEqual(answer(yield* sync(ids.b!, 1)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS)

      const a = yield* rejoin(request("a"), ids.a!)
      yield* TestClock.adjust(1000)
      assert.isTrue(isParked(a))
      assert.isTrue(isParked(c.fiber))
      assert.strictEqual(yield* heartbeat(ids.b!, 1), ErrorCode.REBALANCE_IN_PROGRESS)
      // The last one in completes the join at once (no initial delay: the group was not empty).
      const b = yield* rejoin(request("b"), ids.b!)
      const [ra, rb, rc] = [answer(a), answer(b), answer(c.fiber)]
      assert.deepStrictEqual([ra, rb, rc].map((r) => [r.errorCode, r.generationId, r.leader]), [
        [0, 2, ids.a],
        [0, 2, ids.a],
        [0, 2, ids.a]
      ])
      assert.deepStrictEqual(ra.members.map((m) => m.memberId), [ids.a, ids.b, c.memberId])
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.ILLEGAL_GENERATION)

      const syncs = [yield* sync(ids.b!, 2), yield* sync(c.memberId, 2)]
      answer(yield* sync(ids.a!, 2, { [ids.a!]: "a2", [ids.b!]: "b2", [c.memberId]: "c2" }))
      assert.deepStrictEqual(syncs.map((s) => dec(answer(s).assignment)), ["b2", "c2"])
      for (const id of [ids.a!, ids.b!, c.memberId]) assert.strictEqual(yield* heartbeat(id, 2), ErrorCode.NONE)

      // The leader's JoinGroup in Stable starts the next rebalance: generation 3.
      const a3 = yield* rejoin(request("a"), ids.a!)
      assert.strictEqual(yield* heartbeat(ids.b!, 2), ErrorCode.REBALANCE_IN_PROGRESS)
      const b3 = yield* rejoin(request("b"), ids.b!)
      const c3 = yield* rejoin(request("c"), c.memberId)
      assert.deepStrictEqual([a3, b3, c3].map((f) => answer(f).generationId), [3, 3, 3])
    }).pipe(Effect.provide(broker())))

  it.effect("a follower's JoinGroup in Stable with unchanged metadata answers the current generation; changed metadata rebalances", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"])
      const same = answer(yield* rejoin(request("b"), ids.b!))
      assert.deepStrictEqual([same.errorCode, same.generationId, same.leader, same.members.length], [0, 1, ids.a, 0])
      assert.strictEqual(yield* stateOf(), "Stable")
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.NONE)

      const changed = yield* rejoin(request("b", { protocolNames: ["range", "roundrobin"] }), ids.b!)
      assert.isTrue(isParked(changed))
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.REBALANCE_IN_PROGRESS)
    }).pipe(Effect.provide(broker())))

  it.effect("a member that does not rejoin within the rebalance timeout is removed", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"])
      const c = yield* startJoin(request("c"))
      const a = yield* rejoin(request("a"), ids.a!)
      // b keeps heartbeating (and is told to rejoin) but never does.
      for (let t = 0; t < REBALANCE - 5000; t += 5000) {
        yield* TestClock.adjust(5000)
        assert.strictEqual(yield* heartbeat(ids.b!, 1), ErrorCode.REBALANCE_IN_PROGRESS)
      }
      yield* TestClock.adjust(4999)
      assert.isTrue(isParked(a))
      yield* TestClock.adjust(1)
      const [ra, rc] = [answer(a), answer(c.fiber)]
      assert.deepStrictEqual([ra.generationId, rc.generationId], [2, 2])
      assert.deepStrictEqual(ra.members.map((m) => m.memberId), [ids.a, c.memberId])
      assert.strictEqual(yield* heartbeat(ids.b!, 1), ErrorCode.UNKNOWN_MEMBER_ID)
      assert.strictEqual(yield* heartbeat(ids.b!, 2), ErrorCode.UNKNOWN_MEMBER_ID)
      // Its JoinGroup with the old id is refused; it has to join as a new member.
      assert.strictEqual((yield* Effect.flatMap(coordinator, (gc) => gc.join(request("b", { memberId: ids.b! })))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    }).pipe(Effect.provide(broker())))

  it.effect("the leader not rejoining in time: a member that rejoined becomes leader", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b", "c"])
      const c = yield* rejoin(request("c", { protocolNames: ["range", "sticky"] }), ids.c!) // changed metadata: rebalance
      const b = yield* rejoin(request("b"), ids.b!)
      // The leader is alive (it heartbeats) but does not rejoin.
      for (let t = 0; t < REBALANCE - 5000; t += 5000) {
        yield* TestClock.adjust(5000)
        assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.REBALANCE_IN_PROGRESS)
      }
      yield* TestClock.adjust(4999)
      assert.isTrue(isParked(b))
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.UNKNOWN_MEMBER_ID)
      const [rb, rc] = [answer(b), answer(c)]
      assert.strictEqual(rb.generationId, 2)
      assert.strictEqual(rb.leader, ids.b)
      assert.strictEqual(rc.leader, ids.b)
      assert.deepStrictEqual(rb.members.map((m) => m.memberId), [ids.b, ids.c])
      assert.deepStrictEqual(rc.members, [])
    }).pipe(Effect.provide(broker())))

  it.effect("the leader leaving mid-rebalance: a member that joined becomes leader and the generation completes", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"])
      const c = yield* startJoin(request("c"))
      const b = yield* rejoin(request("b"), ids.b!)
      assert.isTrue(isParked(b))
      // Through the handler, as librdkafka (v1) sends it.
      const left = yield* callResponse(LeaveGroup.make, 1, { groupId: GROUP, memberId: ids.a!, members: [] })
      assert.strictEqual(left.errorCode, ErrorCode.NONE)
      const [rb, rc] = [answer(b), answer(c.fiber)]
      assert.deepStrictEqual([rb.errorCode, rb.generationId, rb.leader], [0, 2, ids.b])
      assert.deepStrictEqual([rc.errorCode, rc.generationId, rc.leader], [0, 2, ids.b])
      assert.deepStrictEqual(rb.members.map((m) => [m.memberId, dec(m.metadata)]), [
        [ids.b, "range:b"],
        [c.memberId, "range:c"]
      ])
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.UNKNOWN_MEMBER_ID)
      const followerSync = yield* sync(c.memberId, 2)
      answer(yield* sync(ids.b!, 2, { [ids.b!]: "b", [c.memberId]: "c" }))
      assert.strictEqual(dec(answer(followerSync).assignment), "c")
    }).pipe(Effect.provide(broker())))

  it.effect("a member parked in JoinGroup is answered UNKNOWN_MEMBER_ID when it is removed", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"])
      const a = yield* rejoin(request("a"), ids.a!)
      const left = yield* leave({ memberId: ids.a! })
      assert.deepStrictEqual(left, { errorCode: 0, members: [0] })
      const ra = answer(a)
      assert.strictEqual(ra.errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
      // b has not rejoined yet: it is not forgotten for that.
      assert.strictEqual(yield* heartbeat(ids.b!, 1), ErrorCode.REBALANCE_IN_PROGRESS)
      const rb = answer(yield* rejoin(request("b"), ids.b!))
      assert.deepStrictEqual([rb.generationId, rb.leader, rb.members.length], [2, ids.b, 1])
    }).pipe(Effect.provide(broker())))

  it.effect("everyone leaving empties the group; the next member starts over with the initial delay", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"])
      assert.deepStrictEqual(yield* leave({ memberId: ids.a! }, { memberId: ids.b! }), { errorCode: 0, members: [0, 0] })
      assert.strictEqual(yield* stateOf(), "Empty")
      assert.strictEqual(yield* heartbeat(ids.a!, 2), ErrorCode.UNKNOWN_MEMBER_ID)
      assert.deepStrictEqual(yield* leave({ memberId: ids.a! }), { errorCode: 0, members: [ErrorCode.UNKNOWN_MEMBER_ID] })
      const c = yield* startJoin(request("c"))
      yield* TestClock.adjust(DELAY - 1)
      assert.isTrue(isParked(c.fiber))
      yield* TestClock.adjust(1)
      // Generation 2 was the empty one.
      assert.strictEqual(answer(c.fiber).generationId, 3)
    }).pipe(Effect.provide(broker())))

  it.effect("a pending member (MEMBER_ID_REQUIRED) that never comes back is dropped after its session timeout", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      const { ids } = yield* stableGroup(["a"])
      const pending = yield* gc.join(request("p"))
      assert.strictEqual(pending.errorCode, ErrorCode.MEMBER_ID_REQUIRED)
      // The rebalance the leader starts waits for the pending member too ...
      const a = yield* rejoin(request("a"), ids.a!)
      yield* TestClock.adjust(SESSION - 1)
      assert.isTrue(isParked(a))
      // ... until its session timeout drops it.
      yield* TestClock.adjust(1)
      const ra = answer(a)
      assert.deepStrictEqual([ra.generationId, ra.members.length], [2, 1])
      assert.strictEqual((yield* gc.join(request("p", { memberId: pending.memberId }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    }).pipe(Effect.provide(broker())))

  it.effect("a leader that never sends SyncGroup: after the rebalance timeout it is removed and the waiting members rejoin", () =>
    Effect.gen(function*() {
      const a = yield* startJoin(request("a"))
      const b = yield* startJoin(request("b"))
      yield* TestClock.adjust(DELAY_TOGETHER)
      answer(a.fiber)
      const followerSync = yield* sync(b.memberId, 1)
      // The leader heartbeats (so its session does not end first) but never sends its SyncGroup.
      for (let t = 0; t < REBALANCE - 5000; t += 5000) {
        yield* TestClock.adjust(5000)
        assert.strictEqual(yield* heartbeat(a.memberId, 1), ErrorCode.NONE)
      }
      yield* TestClock.adjust(4999)
      assert.isTrue(isParked(followerSync))
      yield* TestClock.adjust(1)
      assert.strictEqual(answer(followerSync).errorCode, ErrorCode.REBALANCE_IN_PROGRESS)
      assert.strictEqual(yield* heartbeat(a.memberId, 1), ErrorCode.UNKNOWN_MEMBER_ID)
      const rb = answer(yield* rejoin(request("b"), b.memberId))
      assert.deepStrictEqual([rb.generationId, rb.leader], [2, b.memberId])
    }).pipe(Effect.provide(broker())))
})

describe("GroupCoordinator: sessions", () => {
  it.effect("a member that stops heartbeating is removed after its session timeout and the group rebalances", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"]) // t=3000; sessions run to 13000
      yield* TestClock.adjust(4000)
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.NONE)
      yield* TestClock.adjust(4000)
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.NONE)
      yield* TestClock.adjust(1999) // t=12999: b is still in
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.NONE)
      assert.strictEqual((yield* describeGroup()).members.length, 2)
      yield* TestClock.adjust(1) // t=13000: b's session has run out
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.REBALANCE_IN_PROGRESS)
      assert.strictEqual(yield* heartbeat(ids.b!, 1), ErrorCode.UNKNOWN_MEMBER_ID)
      const ra = answer(yield* rejoin(request("a"), ids.a!))
      assert.deepStrictEqual([ra.generationId, ra.leader], [2, ids.a])
      assert.deepStrictEqual(ra.members.map((m) => m.memberId), [ids.a])
    }).pipe(Effect.provide(broker())))

  it.effect("heartbeats keep members alive across many session timeouts", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"])
      for (let i = 0; i < 30; i++) {
        yield* TestClock.adjust(SESSION - 1)
        assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.NONE)
        assert.strictEqual(yield* heartbeat(ids.b!, 1), ErrorCode.NONE)
      }
      const g = yield* describeGroup()
      assert.strictEqual(g.state, "Stable")
      assert.deepStrictEqual(g.members.map((m) => m.memberId), [ids.a, ids.b])
    }).pipe(Effect.provide(broker())))

  it.effect("an offset commit also keeps the session", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a"])
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust(SESSION - 1)
        assert.deepStrictEqual((yield* commit(ids.a!, 1, [offset("orders", 0, i)])).partitions, [0])
      }
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.NONE)
    }).pipe(Effect.provide(broker())))

  it.effect("a member parked in JoinGroup is not expired by its session timeout", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"])
      const c = yield* startJoin(request("c"))
      const a = yield* rejoin(request("a"), ids.a!)
      // b heartbeats for well over a's session timeout before rejoining; a, parked, sends nothing.
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust(5000)
        assert.strictEqual(yield* heartbeat(ids.b!, 1), ErrorCode.REBALANCE_IN_PROGRESS)
      }
      assert.isTrue(isParked(a))
      const b = yield* rejoin(request("b"), ids.b!)
      const ra = answer(a)
      assert.strictEqual(ra.generationId, 2)
      assert.deepStrictEqual(ra.members.map((m) => m.memberId), [ids.a, ids.b, c.memberId])
      assert.strictEqual(answer(b).generationId, 2)
    }).pipe(Effect.provide(broker())))

  it.effect("a member waiting in SyncGroup is not expired by its session timeout", () =>
    Effect.gen(function*() {
      const a = yield* startJoin(request("a", { rebalanceTimeoutMs: 60_000 }))
      const b = yield* startJoin(request("b", { rebalanceTimeoutMs: 60_000 }))
      yield* TestClock.adjust(DELAY_TOGETHER)
      answer(a.fiber)
      const followerSync = yield* sync(b.memberId, 1)
      for (let i = 0; i < 4; i++) {
        yield* TestClock.adjust(SESSION - 1)
        assert.strictEqual(yield* heartbeat(a.memberId, 1), ErrorCode.NONE)
      }
      assert.isTrue(isParked(followerSync))
      answer(yield* sync(a.memberId, 1, { [b.memberId]: "B" }))
      assert.strictEqual(dec(answer(followerSync).assignment), "B")
      // Its session starts again from the assignment.
      yield* TestClock.adjust(SESSION - 1)
      assert.strictEqual(yield* heartbeat(b.memberId, 1), ErrorCode.NONE)
    }).pipe(Effect.provide(broker())))

  it.effect("a new member's JoinGroup that waits over 5 minutes is answered UNKNOWN_MEMBER_ID", () =>
    Effect.gen(function*() {
      const long = { rebalanceTimeoutMs: 600_000, sessionTimeoutMs: 600_000 }
      const { ids } = yield* stableGroup(["a"], long)
      const c = yield* startJoin(request("c", long))
      // a heartbeats but does not rejoin for 10 minutes.
      for (let i = 0; i < 59; i++) {
        yield* TestClock.adjust(5000)
        yield* heartbeat(ids.a!, 1)
      }
      assert.isTrue(isParked(c.fiber))
      yield* TestClock.adjust(5000)
      assert.strictEqual(answer(c.fiber).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
      const ra = answer(yield* rejoin(request("a", long), ids.a!))
      assert.deepStrictEqual(ra.members.map((m) => m.memberId), [ids.a])
    }).pipe(Effect.provide(broker())))
})

describe("GroupCoordinator: generations racing", () => {
  it.effect("SyncGroup, OffsetCommit and Heartbeat with the previous generation get ILLEGAL_GENERATION", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"])
      const c = yield* startJoin(request("c"))
      const a = yield* rejoin(request("a"), ids.a!)
      const b = yield* rejoin(request("b"), ids.b!)
      for (const f of [a, b, c.fiber]) assert.strictEqual(answer(f).generationId, 2)
      assert.strictEqual(yield* stateOf(), "CompletingRebalance")

      assert.strictEqual(answer(yield* sync(ids.b!, 1)).errorCode, ErrorCode.ILLEGAL_GENERATION)
      assert.strictEqual(yield* heartbeat(ids.b!, 1), ErrorCode.ILLEGAL_GENERATION)
      assert.deepStrictEqual(yield* commit(ids.b!, 1, [offset("orders", 0, 5)]), {
        errorCode: ErrorCode.ILLEGAL_GENERATION,
        partitions: [ErrorCode.ILLEGAL_GENERATION]
      })
      // The current generation, before the assignment: REBALANCE_IN_PROGRESS for commits.
      assert.deepStrictEqual((yield* commit(ids.b!, 2, [offset("orders", 0, 5)])).partitions, [ErrorCode.REBALANCE_IN_PROGRESS])
      assert.strictEqual(yield* heartbeat(ids.b!, 2), ErrorCode.NONE)

      answer(yield* sync(ids.a!, 2, { [ids.a!]: "a" }))
      assert.strictEqual(answer(yield* sync(ids.b!, 1)).errorCode, ErrorCode.ILLEGAL_GENERATION)
      assert.deepStrictEqual((yield* commit(ids.b!, 1, [offset("orders", 0, 5)])).partitions, [ErrorCode.ILLEGAL_GENERATION])
      assert.deepStrictEqual((yield* commit(ids.b!, 2, [offset("orders", 0, 5)])).partitions, [0])
      assert.strictEqual(yield* heartbeat(ids.a!, 3), ErrorCode.ILLEGAL_GENERATION)
    }).pipe(Effect.provide(broker())))

  it.effect("a JoinGroup re-sent with the same metadata during CompletingRebalance gets the same generation again", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"])
      const c = yield* startJoin(request("c"))
      yield* rejoin(request("a"), ids.a!)
      yield* rejoin(request("b"), ids.b!)
      assert.strictEqual(answer(c.fiber).generationId, 2)
      assert.strictEqual(yield* stateOf(), "CompletingRebalance")

      // The follower and the leader lost their answers and ask again.
      const again = answer(yield* rejoin(request("c"), c.memberId))
      assert.deepStrictEqual([again.errorCode, again.generationId, again.leader, again.members.length], [0, 2, ids.a, 0])
      const leaderAgain = answer(yield* rejoin(request("a"), ids.a!))
      assert.deepStrictEqual([leaderAgain.generationId, leaderAgain.members.length], [2, 3])
      assert.strictEqual(yield* stateOf(), "CompletingRebalance")

      // Changed metadata instead starts a new rebalance; members waiting in SyncGroup are sent back.
      const waiting = yield* sync(ids.b!, 2)
      assert.isTrue(isParked(waiting))
      const changed = yield* rejoin(request("c", { protocolNames: ["range", "roundrobin"] }), c.memberId)
      assert.strictEqual(answer(waiting).errorCode, ErrorCode.REBALANCE_IN_PROGRESS)
      assert.isTrue(isParked(changed))
      assert.strictEqual(yield* stateOf(), "PreparingRebalance")
      yield* rejoin(request("a"), ids.a!)
      yield* rejoin(request("b"), ids.b!)
      assert.strictEqual(answer(changed).generationId, 3)
    }).pipe(Effect.provide(broker())))

  it.effect("a JoinGroup from a member the group removed gets UNKNOWN_MEMBER_ID", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      const { ids } = yield* stableGroup(["a", "b"])
      yield* leave({ memberId: ids.b! })
      const r = yield* gc.join(request("b", { memberId: ids.b! }))
      assert.deepStrictEqual([r.errorCode, r.memberId, r.generationId], [ErrorCode.UNKNOWN_MEMBER_ID, ids.b, -1])
      // A made-up member id for a group that does not exist: the same.
      assert.strictEqual((yield* gc.join(request("x", { groupId: "nowhere", memberId: "made-up" }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
      assert.deepStrictEqual(yield* gc.list, [{ groupId: GROUP, protocolType: "consumer", state: "PreparingRebalance" }])
    }).pipe(Effect.provide(broker())))
})

describe("GroupCoordinator: static membership", () => {
  it.effect("a static follower restarting gets a new member id and its assignment back without a rebalance; the old id is fenced", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      const { ids } = yield* stableGroup(["a", "b"], {}, true)
      // Restarted: an empty member id, the same instance id. Answered at once.
      const restarted = answer(yield* rejoin(request("b", { groupInstanceId: "instance-b" }), ""))
      assert.strictEqual(restarted.errorCode, ErrorCode.NONE)
      assert.notStrictEqual(restarted.memberId, ids.b)
      assert.isTrue(restarted.memberId.startsWith("instance-b-"))
      assert.deepStrictEqual([restarted.generationId, restarted.leader, restarted.members.length], [1, ids.a, 0])
      const newB = restarted.memberId

      const synced = answer(yield* sync(newB, 1, {}, "instance-b"))
      assert.strictEqual(synced.errorCode, ErrorCode.NONE)
      assert.strictEqual(dec(synced.assignment), assignmentOf("b"))
      assert.strictEqual(yield* stateOf(), "Stable")
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.NONE)
      assert.strictEqual(yield* heartbeat(newB, 1, "instance-b"), ErrorCode.NONE)
      assert.deepStrictEqual((yield* describeGroup()).members.map((m) => [m.memberId, m.groupInstanceId, dec(m.assignment)]), [
        [ids.a, "instance-a", assignmentOf("a")],
        [newB, "instance-b", assignmentOf("b")]
      ])

      // The old incarnation is fenced wherever it shows up with its instance id; unknown without it.
      assert.strictEqual(yield* heartbeat(ids.b!, 1, "instance-b"), ErrorCode.FENCED_INSTANCE_ID)
      assert.strictEqual(yield* heartbeat(ids.b!, 1), ErrorCode.UNKNOWN_MEMBER_ID)
      assert.strictEqual(answer(yield* sync(ids.b!, 1, {}, "instance-b")).errorCode, ErrorCode.FENCED_INSTANCE_ID)
      assert.strictEqual((yield* gc.join(request("b", { memberId: ids.b!, groupInstanceId: "instance-b" }))).errorCode, ErrorCode.FENCED_INSTANCE_ID)
      assert.deepStrictEqual((yield* commit(ids.b!, 1, [offset("orders", 0, 1)], GROUP, "instance-b")).partitions, [ErrorCode.FENCED_INSTANCE_ID])
      assert.deepStrictEqual(yield* leave({ memberId: ids.b!, groupInstanceId: "instance-b" }), { errorCode: 0, members: [ErrorCode.FENCED_INSTANCE_ID] })
      assert.strictEqual(yield* stateOf(), "Stable")
    }).pipe(Effect.provide(broker())))

  it.effect("a static member's pending JoinGroup is fenced when its instance id joins again", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"], {}, true)
      // The leader rejoins (a rebalance), then its new incarnation joins with the same instance id.
      const old = yield* rejoin(request("a", { groupInstanceId: "instance-a" }), ids.a!)
      assert.isTrue(isParked(old))
      const fresh = yield* rejoin(request("a", { groupInstanceId: "instance-a" }), "")
      assert.strictEqual(answer(old).errorCode, ErrorCode.FENCED_INSTANCE_ID)
      const b = yield* rejoin(request("b", { groupInstanceId: "instance-b" }), ids.b!)
      const rf = answer(fresh)
      assert.strictEqual(rf.generationId, 2)
      assert.strictEqual(rf.leader, rf.memberId)
      assert.deepStrictEqual(rf.members.map((m) => [m.groupInstanceId, dec(m.metadata)]), [
        ["instance-a", "range:a"],
        ["instance-b", "range:b"]
      ])
      assert.strictEqual(answer(b).leader, rf.memberId)
    }).pipe(Effect.provide(broker())))

  it.effect("a static leader restarting on JoinGroup v5-v8 is answered as a follower (the previous leader id), without a rebalance", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"], {}, true)
      const restarted = answer(yield* rejoin(request("a", { groupInstanceId: "instance-a" }), ""))
      assert.strictEqual(restarted.errorCode, ErrorCode.NONE)
      assert.notStrictEqual(restarted.memberId, ids.a)
      // As Kafka: the leader named is the one before the restart, so the client does not try to assign with no members.
      assert.strictEqual(restarted.leader, ids.a)
      assert.deepStrictEqual(restarted.members, [])
      assert.isFalse(restarted.skipAssignment)
      assert.strictEqual(dec(answer(yield* sync(restarted.memberId, 1, {}, "instance-a")).assignment), assignmentOf("a"))
      assert.strictEqual(yield* stateOf(), "Stable")
      assert.strictEqual(yield* heartbeat(ids.b!, 1, "instance-b"), ErrorCode.NONE)
    }).pipe(Effect.provide(broker())))

  it.effect("a static leader restarting on JoinGroup v9 is leader with every member and skips the assignment", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"], {}, true)
      const restarted = answer(yield* rejoin(request("a", { groupInstanceId: "instance-a", supportsSkipAssignment: true }), ""))
      assert.strictEqual(restarted.errorCode, ErrorCode.NONE)
      assert.strictEqual(restarted.leader, restarted.memberId)
      assert.isTrue(restarted.skipAssignment)
      assert.deepStrictEqual(restarted.members.map((m) => [m.memberId, m.groupInstanceId]), [
        [restarted.memberId, "instance-a"],
        [ids.b, "instance-b"]
      ])
      assert.strictEqual(dec(answer(yield* sync(restarted.memberId, 1, {}, "instance-a")).assignment), assignmentOf("a"))
      assert.strictEqual(yield* heartbeat(ids.b!, 1, "instance-b"), ErrorCode.NONE)
    }).pipe(Effect.provide(broker())))

  it.effect("a static member restarting with protocols that change the group's choice rebalances", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"], { protocolNames: ["range", "roundrobin"] }, true)
      const restarted = yield* rejoin(request("b", { groupInstanceId: "instance-b", protocolNames: ["roundrobin"] }), "")
      assert.isTrue(isParked(restarted))
      assert.strictEqual(yield* heartbeat(ids.a!, 1, "instance-a"), ErrorCode.REBALANCE_IN_PROGRESS)
    }).pipe(Effect.provide(broker())))

  it.effect("a static member that does not rejoin in time keeps its place", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"], {}, true)
      const a = yield* rejoin(request("a", { groupInstanceId: "instance-a" }), ids.a!)
      for (let i = 0; i < REBALANCE / 5000; i++) {
        yield* TestClock.adjust(5000)
        yield* heartbeat(ids.b!, 1, "instance-b")
      }
      const ra = answer(a)
      assert.strictEqual(ra.generationId, 2)
      assert.deepStrictEqual(ra.members.map((m) => m.memberId), [ids.a, ids.b])
    }).pipe(Effect.provide(broker())))

  it.effect("LeaveGroup by group instance id (v3+) removes the static member and rebalances", () =>
    Effect.gen(function*() {
      const { ids } = yield* stableGroup(["a", "b"], {}, true)
      const left = yield* callResponse(LeaveGroup.make, 3, {
        groupId: GROUP,
        memberId: "",
        members: [
          { memberId: "", groupInstanceId: "instance-b", reason: null },
          { memberId: "", groupInstanceId: "instance-unknown", reason: null }
        ]
      })
      assert.strictEqual(left.errorCode, ErrorCode.NONE)
      assert.deepStrictEqual(left.members.map((m) => [m.memberId, m.groupInstanceId, m.errorCode]), [
        ["", "instance-b", ErrorCode.NONE],
        ["", "instance-unknown", ErrorCode.UNKNOWN_MEMBER_ID]
      ])
      assert.strictEqual(yield* heartbeat(ids.a!, 1, "instance-a"), ErrorCode.REBALANCE_IN_PROGRESS)
      assert.strictEqual(yield* heartbeat(ids.b!, 1, "instance-b"), ErrorCode.UNKNOWN_MEMBER_ID)
      const ra = answer(yield* rejoin(request("a", { groupInstanceId: "instance-a" }), ids.a!))
      assert.deepStrictEqual(ra.members.map((m) => m.groupInstanceId), ["instance-a"])
      // The instance id is free again: joining with it adds a member.
      const b = yield* rejoin(request("b", { groupInstanceId: "instance-b" }), "")
      assert.isTrue(isParked(b))
    }).pipe(Effect.provide(broker())))
})

describe("GroupCoordinator: errors", () => {
  it.effect("an empty group id is INVALID_GROUP_ID", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      const r = yield* gc.join(request("a", { groupId: "" }))
      assert.deepStrictEqual([r.errorCode, r.generationId], [ErrorCode.INVALID_GROUP_ID, -1])
      assert.deepStrictEqual((yield* commit("", -1, [offset("orders", 0, 1)], "")).partitions, [ErrorCode.INVALID_GROUP_ID])
      assert.deepStrictEqual(yield* gc.list, [])
    }).pipe(Effect.provide(broker())))

  it.effect("a session timeout outside group.min/max.session.timeout.ms is INVALID_SESSION_TIMEOUT", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      const code = (sessionTimeoutMs: number) => Effect.map(gc.join(request("a", { sessionTimeoutMs })), (r) => r.errorCode)
      assert.strictEqual(yield* code(5999), ErrorCode.INVALID_SESSION_TIMEOUT)
      assert.strictEqual(yield* code(1_800_001), ErrorCode.INVALID_SESSION_TIMEOUT)
      assert.strictEqual(yield* code(6000), ErrorCode.MEMBER_ID_REQUIRED)
      assert.strictEqual(yield* code(1_800_000), ErrorCode.MEMBER_ID_REQUIRED)
    }).pipe(Effect.provide(broker())))

  it.effect("the session timeout range is configurable", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      const code = (sessionTimeoutMs: number) => Effect.map(gc.join(request("a", { sessionTimeoutMs })), (r) => r.errorCode)
      assert.strictEqual(yield* code(1000), ErrorCode.MEMBER_ID_REQUIRED)
      assert.strictEqual(yield* code(999), ErrorCode.INVALID_SESSION_TIMEOUT)
      assert.strictEqual(yield* code(20_001), ErrorCode.INVALID_SESSION_TIMEOUT)
    }).pipe(Effect.provide(broker({ "group.min.session.timeout.ms": "1000", "group.max.session.timeout.ms": "20000" }))))

  it.effect("SyncGroup, Heartbeat and LeaveGroup for an unknown group or member are UNKNOWN_MEMBER_ID", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      assert.strictEqual(answer(yield* sync("nobody", 1)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
      assert.strictEqual(yield* heartbeat("nobody", 1), ErrorCode.UNKNOWN_MEMBER_ID)
      const { ids } = yield* stableGroup(["a"])
      assert.strictEqual(answer(yield* sync("nobody", 1)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
      assert.strictEqual(yield* heartbeat("nobody", 1), ErrorCode.UNKNOWN_MEMBER_ID)
      assert.strictEqual(yield* heartbeat(ids.a!, 1, "instance-never-seen"), ErrorCode.UNKNOWN_MEMBER_ID)
      assert.deepStrictEqual(yield* leave({ memberId: "nobody" }), { errorCode: 0, members: [ErrorCode.UNKNOWN_MEMBER_ID] })
      assert.strictEqual((yield* gc.leave("no-such-group", [{ memberId: "x", groupInstanceId: null }])).members[0], ErrorCode.UNKNOWN_MEMBER_ID)
      // None of these disturbed the group.
      assert.strictEqual(yield* heartbeat(ids.a!, 1), ErrorCode.NONE)
      // SyncGroup with a protocol the group did not choose (v5+).
      const wrong = yield* gc.sync({ ...syncRequest(ids.a!, 1), protocolType: "consumer", protocolName: "roundrobin" })
      assert.strictEqual(wrong.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
      const right = yield* gc.sync({ ...syncRequest(ids.a!, 1), protocolType: "consumer", protocolName: "range" })
      assert.strictEqual(right.errorCode, ErrorCode.NONE)
    }).pipe(Effect.provide(broker())))
})

// ---------------------------------------------------------------------------------------------------------
// Offsets

const fetchRequest = (groupId: string, topics: ReadonlyArray<{ name: string; partitionIndexes: ReadonlyArray<number> }> | null) => ({
  groupId,
  topics: topics === null ? null : topics.map((t) => ({ name: t.name, partitionIndexes: [...t.partitionIndexes] })),
  groups: [],
  requireStable: false
})

const commitRequest = (groupId: string, generation: number, memberId: string, topics: Record<string, ReadonlyArray<[number, number, string | null]>>) => ({
  groupId,
  generationIdOrMemberEpoch: generation,
  memberId,
  groupInstanceId: null,
  retentionTimeMs: -1,
  topics: Object.entries(topics).map(([name, ps]) => ({
    name,
    partitions: ps.map(([partitionIndex, committedOffset, committedMetadata]) => ({
      partitionIndex,
      committedOffset,
      committedLeaderEpoch: 3,
      commitTimestamp: -1,
      committedMetadata
    }))
  }))
})

/** (topic, partition, offset, metadata) of each partition in an OffsetFetch answer, v0-v7 layout. */
const fetched = (topics: ReadonlyArray<{ name: string; partitions: ReadonlyArray<{ partitionIndex: number; committedOffset: number; metadata: string | null; errorCode: number }> }>) =>
  topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]))

describe("GroupCoordinator: offsets", () => {
  it.effect("a member commits within its generation; OffsetFetch returns what it committed", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      const { ids } = yield* stableGroup(["a"])
      const r = yield* commit(ids.a!, 1, [offset("orders", 0, 42, "first"), offset("orders", 1, 7), offset("payments", 1, 9, "")])
      assert.deepStrictEqual(r, { errorCode: 0, partitions: [0, 0, 0] })
      const got = yield* gc.committed(GROUP, [{ topic: "orders", partitions: [0, 1, 2] }, { topic: "payments", partitions: [1] }])
      assert.deepStrictEqual(got.map((g) => [g.topic, g.partition, g.committed?.offset, g.committed?.metadata, g.committed?.leaderEpoch]), [
        ["orders", 0, 42, "first", 0],
        ["orders", 1, 7, "", 0],
        ["orders", 2, undefined, undefined, undefined],
        ["payments", 1, 9, "", 0]
      ])
      // The commit time is the broker's clock (the TestClock: the group formed at 3000).
      assert.strictEqual(got[0]!.committed!.commitTimestamp, DELAY)
      // A later commit replaces the earlier one.
      yield* TestClock.adjust(1000)
      yield* commit(ids.a!, 1, [offset("orders", 0, 50)])
      const again = yield* gc.committed(GROUP, [{ topic: "orders", partitions: [0] }])
      assert.deepStrictEqual([again[0]!.committed!.offset, again[0]!.committed!.metadata, again[0]!.committed!.commitTimestamp], [50, "", DELAY + 1000])
    }).pipe(Effect.provide(broker())))

  it.effect("a consumer outside any group commits with generation -1 and no member id; that creates an Empty group", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      assert.deepStrictEqual(yield* commit("", -1, [offset("orders", 2, 100)], "simple"), { errorCode: 0, partitions: [0] })
      assert.deepStrictEqual(yield* gc.list, [{ groupId: "simple", protocolType: "", state: "Empty" }])
      assert.strictEqual((yield* gc.committed("simple", null))[0]!.committed!.offset, 100)
      // Again, as often as it likes.
      assert.deepStrictEqual((yield* commit("", -1, [offset("orders", 2, 101)], "simple")).partitions, [0])
      // A group can form on it later, keeping the offsets.
      const a = yield* startJoin(request("a", { groupId: "simple" }))
      assert.isTrue(isParked(a.fiber))
      assert.strictEqual((yield* gc.committed("simple", null))[0]!.committed!.offset, 101)
    }).pipe(Effect.provide(broker())))

  it.effect("a commit without membership to a group with members is UNKNOWN_MEMBER_ID", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      const { ids } = yield* stableGroup(["a"])
      assert.deepStrictEqual(yield* commit("", -1, [offset("orders", 0, 1), offset("orders", 1, 1)]), {
        errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
        partitions: [ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID]
      })
      assert.deepStrictEqual((yield* commit("stranger", 1, [offset("orders", 0, 1)])).partitions, [ErrorCode.UNKNOWN_MEMBER_ID])
      // A member id for a group that does not exist.
      assert.deepStrictEqual((yield* commit(ids.a!, 1, [offset("orders", 0, 1)], "no-such-group")).partitions, [ErrorCode.UNKNOWN_MEMBER_ID])
      assert.strictEqual((yield* gc.committed(GROUP, [{ topic: "orders", partitions: [0] }]))[0]!.committed, undefined)
      assert.deepStrictEqual((yield* gc.list).map((g) => g.groupId), [GROUP])
    }).pipe(Effect.provide(broker())))

  it.effect("an unknown topic or partition fails alone (3); metadata over offset.metadata.max.bytes fails alone (12)", () =>
    Effect.gen(function*() {
      const gc = yield* coordinator
      const r = yield* commit("", -1, [
        offset("orders", 0, 10, "x".repeat(4096)),
        offset("nope", 0, 10),
        offset("orders", 3, 10),
        offset("payments", 0, 10, "y".repeat(4097)),
        offset("payments", 1, 10)
      ], "g")
      assert.deepStrictEqual(r.partitions, [0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.OFFSET_METADATA_TOO_LARGE, 0])
      const all = yield* gc.committed("g", null)
      assert.deepStrictEqual(all.map((o) => [o.topic, o.partition, o.committed?.metadata.length]), [
        ["orders", 0, 4096],
        ["payments", 1, 0]
      ])
    }).pipe(Effect.provide(broker())))

  it.effect("offset.metadata.max.bytes is configurable", () =>
    Effect.gen(function*() {
      const r = yield* commit("", -1, [offset("orders", 0, 1, "0123456789"), offset("orders", 1, 1, "0123456789a")], "g")
      assert.deepStrictEqual(r.partitions, [0, ErrorCode.OFFSET_METADATA_TOO_LARGE])
    }).pipe(Effect.provide(broker({ "offset.metadata.max.bytes": "10" }))))

  it.effect("OffsetCommit and OffsetFetch through the handlers at the versions clients send", () =>
    Effect.gen(function*() {
      // kafka-python: OffsetCommit v2 and OffsetFetch v1, outside any group.
      const c2 = yield* callResponse(OffsetCommit.make, 2, commitRequest("py", -1, "", { orders: [[0, 11, "py-meta"], [7, 1, null]] }))
      assert.deepStrictEqual(c2.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]), [
        ["orders", [[0, 0], [7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]]
      ])
      const f1 = yield* callResponse(OffsetFetch.make, 1, fetchRequest("py", [{ name: "orders", partitionIndexes: [0, 1] }]))
      assert.deepStrictEqual(fetched(f1.topics), [
        ["orders", 0, 11, "py-meta", 0],
        ["orders", 1, -1, "", 0]
      ])
      // v0-v1 have no null topic list: an empty list asks for nothing.
      assert.deepStrictEqual((yield* callResponse(OffsetFetch.make, 1, fetchRequest("py", []))).topics, [])


      // librdkafka: OffsetCommit v7 within its generation, OffsetFetch v7 (flexible).
      const { ids } = yield* stableGroup(["a"])
      const c7 = yield* callResponse(OffsetCommit.make, 7, commitRequest(GROUP, 1, ids.a!, { orders: [[1, 21, "rd"]], payments: [[0, 22, null]] }))
      assert.deepStrictEqual(c7.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)), [0, 0])
      const stale = yield* callResponse(OffsetCommit.make, 7, commitRequest(GROUP, 0, ids.a!, { orders: [[1, 99, null]] }))
      assert.strictEqual(stale.topics[0]!.partitions[0]!.errorCode, ErrorCode.ILLEGAL_GENERATION)
      const f7 = yield* callResponse(OffsetFetch.make, 7, fetchRequest(GROUP, [{ name: "orders", partitionIndexes: [1] }, { name: "payments", partitionIndexes: [0, 1] }]))
      assert.strictEqual(f7.errorCode, 0)
      assert.deepStrictEqual(fetched(f7.topics), [
        ["orders", 1, 21, "rd", 0],
        ["payments", 0, 22, "", 0],
        ["payments", 1, -1, "", 0]
      ])
      assert.strictEqual(f7.topics[0]!.partitions[0]!.committedLeaderEpoch, 3)

      // v2+: a null topic list is every committed partition.
      const all = yield* callResponse(OffsetFetch.make, 2, fetchRequest(GROUP, null))
      assert.deepStrictEqual(fetched(all.topics), [
        ["orders", 1, 21, "rd", 0],
        ["payments", 0, 22, "", 0]
      ])
      // An unknown group: nothing committed.
      assert.deepStrictEqual((yield* callResponse(OffsetFetch.make, 5, fetchRequest("unknown", null))).topics, [])
      assert.deepStrictEqual(fetched((yield* callResponse(OffsetFetch.make, 5, fetchRequest("unknown", [{ name: "orders", partitionIndexes: [0] }]))).topics), [
        ["orders", 0, -1, "", 0]
      ])

      // @platformatic/kafka: OffsetCommit v9, OffsetFetch v8+ with several groups at once.
      const c9 = yield* callResponse(OffsetCommit.make, 9, commitRequest(GROUP, 1, ids.a!, { orders: [[2, 23, "p"]] }))
      assert.strictEqual(c9.topics[0]!.partitions[0]!.errorCode, 0)
      for (const version of [8, 9]) {
        const f = yield* callResponse(OffsetFetch.make, version, {
          groupId: "",
          topics: [],
          groups: [
            { groupId: GROUP, memberId: null, memberEpoch: -1, topics: [{ name: "orders", partitionIndexes: [0, 2] }] },
            { groupId: "py", memberId: null, memberEpoch: -1, topics: null },
            { groupId: "unknown", memberId: null, memberEpoch: -1, topics: null }
          ],
          requireStable: true
        })
        assert.deepStrictEqual(
          f.groups.map((g) => [g.groupId, g.errorCode, fetched(g.topics)]),
          [
            [GROUP, 0, [["orders", 0, -1, "", 0], ["orders", 2, 23, "p", 0]]],
            ["py", 0, [["orders", 0, 11, "py-meta", 0]]],
            ["unknown", 0, []]
          ]
        )
      }
    }).pipe(Effect.provide(broker())))

  it.effect("offsets survive a restart, stored in __consumer_offsets-0 as Kafka's keyed offset records", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const options = { topics: TOPICS }
      yield* Effect.gen(function*() {
        const { ids } = yield* stableGroup(["a"])
        assert.deepStrictEqual((yield* commit(ids.a!, 1, [offset("orders", 0, 42, "meta"), offset("orders", 1, 43)])).partitions, [0, 0])
        yield* TestClock.adjust(500)
        assert.deepStrictEqual((yield* commit(ids.a!, 1, [offset("orders", 0, 44)])).partitions, [0])
        assert.deepStrictEqual((yield* commit("", -1, [offset("payments", 1, 7, "simple")], "other")).partitions, [0])
        // A rejected partition writes nothing.
        assert.deepStrictEqual((yield* commit("", -1, [offset("nope", 0, 1)], "other")).partitions, [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
      }).pipe(Effect.provide(layer(fs, options)))

      // Restarted: group membership is gone, committed offsets are not.
      yield* Effect.gen(function*() {
        const gc = yield* coordinator
        assert.strictEqual(segmentPath(OFFSETS_PARTITION), `${LOG_DIR}/__consumer_offsets-0/00000000000000000000.log`)
        const records = batchesIn(yield* readLog(OFFSETS_PARTITION)).flatMap((b) => decodeRecords(b.bytes))
        assert.strictEqual(records.length, 4)
        for (const r of records) {
          // Key version 1, value version 3, as Kafka writes them.
          assert.deepStrictEqual([r.key![0], r.key![1]], [0, 1])
          assert.deepStrictEqual([r.value![0], r.value![1]], [0, 3])
        }
        assert.deepStrictEqual(records.map((r) => ({ ...decodeOffsetKey(r.key!)!, ...decodeOffsetValue(r.value!) })), [
          { group: GROUP, topic: "orders", partition: 0, offset: 42, leaderEpoch: 0, metadata: "meta", commitTimestamp: DELAY, expireTimestamp: -1 },
          { group: GROUP, topic: "orders", partition: 1, offset: 43, leaderEpoch: 0, metadata: "", commitTimestamp: DELAY, expireTimestamp: -1 },
          { group: GROUP, topic: "orders", partition: 0, offset: 44, leaderEpoch: 0, metadata: "", commitTimestamp: DELAY + 500, expireTimestamp: -1 },
          { group: "other", topic: "payments", partition: 1, offset: 7, leaderEpoch: 0, metadata: "simple", commitTimestamp: DELAY + 500, expireTimestamp: -1 }
        ])

        const f = yield* callResponse(OffsetFetch.make, 7, fetchRequest(GROUP, null))
        assert.deepStrictEqual(fetched(f.topics), [
          ["orders", 0, 44, "", 0],
          ["orders", 1, 43, "", 0]
        ])
        assert.deepStrictEqual(fetched((yield* callResponse(OffsetFetch.make, 7, fetchRequest("other", null))).topics), [["payments", 1, 7, "simple", 0]])
        // The groups are known again, Empty, for listing and deleting.
        assert.deepStrictEqual(yield* gc.list, [
          { groupId: GROUP, protocolType: "", state: "Empty" },
          { groupId: "other", protocolType: "", state: "Empty" }
        ])
        // The old member is unknown; its group takes commits from outside a group again.
        assert.strictEqual(yield* heartbeat("anyone", 1), ErrorCode.UNKNOWN_MEMBER_ID)
        assert.deepStrictEqual((yield* commit("", -1, [offset("orders", 0, 45)])).partitions, [0])
      }).pipe(Effect.provide(layer(fs, options)))
    }))
})

// ---------------------------------------------------------------------------------------------------------
// Listing, describing, deleting

describe("GroupCoordinator: ListGroups, DescribeGroups, DeleteGroups", () => {
  it.effect("ListGroups lists every group, filtered by state (v4+) and type (v5+)", () =>
    Effect.gen(function*() {
      yield* stableGroup(["a"])
      yield* commit("", -1, [offset("orders", 0, 1)], "simple")
      yield* startJoin(request("x", { groupId: "forming" }))

      const v0 = yield* callResponse(ListGroups.make, 0, { statesFilter: [], typesFilter: [] })
      assert.strictEqual(v0.errorCode, 0)
      assert.deepStrictEqual(v0.groups.map((g) => [g.groupId, g.protocolType]).sort(), [
        ["forming", "consumer"],
        [GROUP, "consumer"],
        ["simple", ""]
      ].sort())
      const states = (filter: Array<string>, version = 4) =>
        Effect.map(callResponse(ListGroups.make, version, { statesFilter: filter, typesFilter: [] }), (r) =>
          r.groups.map((g) => [g.groupId, g.groupState]).sort())
      assert.deepStrictEqual(yield* states(["Stable"]), [[GROUP, "Stable"]])
      assert.deepStrictEqual(yield* states(["empty", "PreparingRebalance"]), [["forming", "PreparingRebalance"], ["simple", "Empty"]])
      assert.deepStrictEqual(yield* states(["Dead"]), [])
      assert.strictEqual((yield* states([])).length, 3)
      const types = (filter: Array<string>) =>
        Effect.map(callResponse(ListGroups.make, 5, { statesFilter: [], typesFilter: filter }), (r) => r.groups.map((g) => g.groupType))
      assert.deepStrictEqual(yield* types(["classic"]), ["classic", "classic", "classic"])
      assert.deepStrictEqual(yield* types(["consumer"]), [])
    }).pipe(Effect.provide(broker())))

  it.effect("DescribeGroups: a Stable group with members' metadata and assignments; others without; unknown → Dead", () =>
    Effect.gen(function*() {
      // Joined through the handler so the client id and host are the connection's.
      const v5 = (memberId: string) =>
        callResponse(JoinGroup.make, 5, {
          groupId: GROUP,
          sessionTimeoutMs: SESSION,
          rebalanceTimeoutMs: REBALANCE,
          memberId,
          groupInstanceId: "static-1",
          protocolType: "consumer",
          protocols: [{ name: "range", metadata: enc("subscription") }],
          reason: null
        })
      const join = yield* fork(v5(""))
      yield* TestClock.adjust(DELAY)
      const joined = answer(join)
      assert.strictEqual(joined.errorCode, 0)
      const memberId = joined.memberId

      const describe = (version: number, groups: Array<string>) =>
        callResponse(DescribeGroups.make, version, { groups, includeAuthorizedOperations: false })
      const completing = (yield* describe(5, [GROUP])).groups[0]!
      assert.deepStrictEqual([completing.groupState, completing.protocolType, completing.protocolData], ["CompletingRebalance", "consumer", ""])
      assert.deepStrictEqual(completing.members.map((m) => [m.memberId, m.memberMetadata.length, m.memberAssignment.length]), [[memberId, 0, 0]])

      answer(yield* sync(memberId, 1, { [memberId]: "the assignment" }, "static-1"))
      for (const version of [0, 3, 4, 5]) {
        const d = (yield* describe(version, [GROUP, "unknown"])).groups
        assert.deepStrictEqual(d.map((g) => [g.errorCode, g.groupId, g.groupState, g.protocolType, g.protocolData, g.members.length]), [
          [0, GROUP, "Stable", "consumer", "range", 1],
          [0, "unknown", "Dead", "", "", 0]
        ])
        const m = d[0]!.members[0]!
        assert.deepStrictEqual(
          [m.memberId, m.groupInstanceId, m.clientId, m.clientHost, dec(m.memberMetadata), dec(m.memberAssignment)],
          [memberId, version >= 4 ? "static-1" : null, "unit-test", "/127.0.0.1", "subscription", "the assignment"]
        )
      }
    }).pipe(Effect.provide(broker())))

  it.effect("DeleteGroups: a group with members → 68, unknown → 69, an empty one is deleted with its offsets, also after a restart", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const options = { topics: TOPICS }
      const del = (...groupsNames: Array<string>) =>
        Effect.map(callResponse(DeleteGroups.make, 2, { groupsNames }), (r) => r.results.map((x) => [x.groupId, x.errorCode]))
      yield* Effect.gen(function*() {
        const gc = yield* coordinator
        const { ids } = yield* stableGroup(["a"])
        yield* commit(ids.a!, 1, [offset("orders", 0, 5)])
        yield* commit("", -1, [offset("orders", 0, 6), offset("payments", 0, 7)], "simple")
        yield* commit("", -1, [offset("orders", 1, 8)], "kept")
        assert.deepStrictEqual(yield* del(GROUP, "simple", "unknown"), [
          [GROUP, ErrorCode.NON_EMPTY_GROUP],
          ["simple", 0],
          ["unknown", ErrorCode.GROUP_ID_NOT_FOUND]
        ])
        assert.deepStrictEqual(yield* del("simple"), [["simple", ErrorCode.GROUP_ID_NOT_FOUND]])
        assert.deepStrictEqual((yield* gc.committed("simple", null)), [])
        assert.deepStrictEqual((yield* describeGroup("simple")).state, "Dead")
        assert.deepStrictEqual((yield* gc.list).map((g) => g.groupId).sort(), [GROUP, "kept"])

        // Once its last member leaves, the group can go, offsets and all.
        yield* leave({ memberId: ids.a! })
        assert.strictEqual(yield* stateOf(), "Empty")
        assert.deepStrictEqual(yield* del(GROUP), [[GROUP, 0]])
      }).pipe(Effect.provide(layer(fs, options)))

      yield* Effect.gen(function*() {
        const gc = yield* coordinator
        assert.deepStrictEqual((yield* gc.list).map((g) => g.groupId), ["kept"])
        assert.deepStrictEqual(yield* gc.committed("simple", null), [])
        assert.deepStrictEqual(yield* gc.committed(GROUP, null), [])
        assert.deepStrictEqual((yield* gc.committed("kept", null)).map((o) => o.committed?.offset), [8])
        assert.deepStrictEqual(yield* del("simple", GROUP), [["simple", ErrorCode.GROUP_ID_NOT_FOUND], [GROUP, ErrorCode.GROUP_ID_NOT_FOUND]])
        // Tombstones: null values for the deleted groups' keys.
        const records = batchesIn(yield* readLog(OFFSETS_PARTITION)).flatMap((b) => decodeRecords(b.bytes))
        const tombstones = records.filter((r) => r.value === null).map((r) => decodeOffsetKey(r.key!)!)
        assert.deepStrictEqual(tombstones.map((k) => [k.group, k.topic, k.partition]).sort(), [
          [GROUP, "orders", 0],
          ["simple", "orders", 0],
          ["simple", "payments", 0]
        ].sort())
      }).pipe(Effect.provide(layer(fs, options)))
    }))
})

// ---------------------------------------------------------------------------------------------------------
// Through the handlers, at the versions real clients send

interface Versions {
  readonly client: string
  readonly join: number
  readonly sync: number
  readonly heartbeat: number
  readonly leave: number
}

const CLIENTS: ReadonlyArray<Versions> = [
  { client: "old (v0)", join: 0, sync: 0, heartbeat: 0, leave: 0 },
  { client: "kafka-python", join: 2, sync: 1, heartbeat: 1, leave: 1 },
  { client: "librdkafka", join: 5, sync: 3, heartbeat: 3, leave: 1 },
  { client: "kafkajs", join: 5, sync: 3, heartbeat: 3, leave: 3 },
  { client: "@platformatic/kafka", join: 9, sync: 5, heartbeat: 4, leave: 5 }
]

describe("GroupCoordinator: the group APIs through their handlers", () => {
  it.effect.each(CLIENTS)("a group's life as $client sees it", (v) =>
    Effect.gen(function*() {
      const joinGroup = (memberId: string, name: string, sessionTimeoutMs = SESSION) =>
        callResponse(JoinGroup.make, v.join, {
          groupId: GROUP,
          sessionTimeoutMs,
          rebalanceTimeoutMs: REBALANCE,
          memberId,
          groupInstanceId: null,
          protocolType: "consumer",
          protocols: [{ name: "range", metadata: enc(name) }],
          reason: null
        })
      /** The JoinGroup a new member sends, through MEMBER_ID_REQUIRED from v4. */
      const newMember = (name: string, sessionTimeoutMs = SESSION) =>
        Effect.gen(function*() {
          if (v.join < 4) return yield* fork(joinGroup("", name, sessionTimeoutMs))
          const first = yield* joinGroup("", name, sessionTimeoutMs)
          assert.strictEqual(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED)
          assert.isTrue(first.memberId.startsWith("unit-test-"))
          return yield* fork(joinGroup(first.memberId, name, sessionTimeoutMs))
        })
      const syncGroup = (memberId: string, generationId: number, assignments: Record<string, string> = {}) =>
        fork(callResponse(SyncGroup.make, v.sync, {
          groupId: GROUP,
          generationId,
          memberId,
          groupInstanceId: null,
          protocolType: v.sync >= 5 ? "consumer" : null,
          protocolName: v.sync >= 5 ? "range" : null,
          assignments: Object.entries(assignments).map(([id, a]) => ({ memberId: id, assignment: enc(a) }))
        }))
      const beat = (memberId: string, generationId: number) =>
        Effect.map(
          callResponse(Heartbeat.make, v.heartbeat, { groupId: GROUP, generationId, memberId, groupInstanceId: null }),
          (r) => r.errorCode
        )
      const leaveGroup = (memberId: string) =>
        Effect.map(
          callResponse(LeaveGroup.make, v.leave, { groupId: GROUP, memberId, members: [{ memberId, groupInstanceId: null, reason: null }] }),
          (r) => (v.leave >= 3 ? [r.errorCode, ...r.members.map((m) => m.errorCode)] : [r.errorCode])
        )

      // v0 has no rebalance timeout: the session timeout stands in for it (and must pass the session check).
      const a = yield* newMember("a")
      const b = yield* newMember("b")
      yield* TestClock.adjust(DELAY_TOGETHER - 1)
      assert.isTrue(isParked(a))
      yield* TestClock.adjust(1)
      const [ra, rb] = [answer(a), answer(b)]
      assert.deepStrictEqual([ra.errorCode, ra.generationId, ra.protocolName, ra.leader], [0, 1, "range", ra.memberId])
      assert.deepStrictEqual([rb.errorCode, rb.generationId, rb.protocolName, rb.leader], [0, 1, "range", ra.memberId])
      assert.strictEqual(ra.protocolType, v.join >= 7 ? "consumer" : null)
      assert.deepStrictEqual(ra.members.map((m) => [m.memberId, dec(m.metadata)]), [[ra.memberId, "a"], [rb.memberId, "b"]])
      assert.deepStrictEqual(rb.members, [])

      const followerSync = yield* syncGroup(rb.memberId, 1)
      assert.isTrue(isParked(followerSync))
      const leaderSync = answer(yield* syncGroup(ra.memberId, 1, { [ra.memberId]: "A", [rb.memberId]: "B" }))
      const fs = answer(followerSync)
      assert.deepStrictEqual([leaderSync.errorCode, dec(leaderSync.assignment)], [0, "A"])
      assert.deepStrictEqual([fs.errorCode, dec(fs.assignment)], [0, "B"])
      assert.deepStrictEqual([fs.protocolType, fs.protocolName], v.sync >= 5 ? ["consumer", "range"] : [null, null])

      assert.strictEqual(yield* beat(ra.memberId, 1), 0)
      assert.strictEqual(yield* beat(rb.memberId, 0), ErrorCode.ILLEGAL_GENERATION)
      assert.strictEqual(yield* beat("unknown", 1), ErrorCode.UNKNOWN_MEMBER_ID)

      // b leaves: a is told to rejoin, and forms generation 2 alone.
      assert.deepStrictEqual(yield* leaveGroup(rb.memberId), v.leave >= 3 ? [0, 0] : [0])
      assert.strictEqual(yield* beat(ra.memberId, 1), ErrorCode.REBALANCE_IN_PROGRESS)
      const again = answer(yield* fork(joinGroup(ra.memberId, "a")))
      assert.deepStrictEqual([again.errorCode, again.generationId, again.leader, again.members.length], [0, 2, ra.memberId, 1])
      assert.deepStrictEqual(yield* leaveGroup(rb.memberId), v.leave >= 3 ? [0, ErrorCode.UNKNOWN_MEMBER_ID] : [ErrorCode.UNKNOWN_MEMBER_ID])

      // Errors as the client reads them.
      const invalid = yield* callResponse(JoinGroup.make, v.join, {
        groupId: GROUP,
        sessionTimeoutMs: 1000,
        rebalanceTimeoutMs: REBALANCE,
        memberId: "",
        groupInstanceId: null,
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: enc("c") }],
        reason: null
      })
      assert.deepStrictEqual([invalid.errorCode, invalid.generationId, invalid.memberId], [ErrorCode.INVALID_SESSION_TIMEOUT, -1, ""])
      assert.strictEqual(invalid.protocolName, v.join >= 7 ? null : "")
      const noGroup = yield* callResponse(JoinGroup.make, v.join, {
        groupId: "",
        sessionTimeoutMs: SESSION,
        rebalanceTimeoutMs: REBALANCE,
        memberId: "",
        groupInstanceId: null,
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: enc("c") }],
        reason: null
      })
      assert.strictEqual(noGroup.errorCode, ErrorCode.INVALID_GROUP_ID)
    }).pipe(Effect.provide(broker())))

  it.effect("FindCoordinator: this node for every group and transactional id; an empty group id is INVALID_GROUP_ID", () =>
    Effect.gen(function*() {
      for (const version of [0, 1, 2, 3]) {
        const r = yield* callResponse(FindCoordinator.make, version, { key: GROUP, keyType: 0, coordinatorKeys: [] })
        assert.deepStrictEqual([r.errorCode, r.nodeId, r.port], [0, 1, 9092])
      }
      const r = yield* callResponse(FindCoordinator.make, 4, { key: "", keyType: 0, coordinatorKeys: [GROUP, ""] })
      assert.deepStrictEqual(r.coordinators.map((c) => [c.key, c.errorCode, c.nodeId]), [
        [GROUP, 0, 1],
        ["", ErrorCode.INVALID_GROUP_ID, -1]
      ])
      const txn = yield* callResponse(FindCoordinator.make, 6, { key: "", keyType: 1, coordinatorKeys: ["tx"] })
      assert.deepStrictEqual(txn.coordinators.map((c) => [c.key, c.errorCode, c.nodeId]), [["tx", 0, 1]])
      const v1 = yield* callResponse(FindCoordinator.make, 1, { key: "tx", keyType: 1, coordinatorKeys: [] })
      assert.deepStrictEqual([v1.errorCode, v1.nodeId], [0, 1])
      const share = yield* callResponse(FindCoordinator.make, 6, { key: "", keyType: 2, coordinatorKeys: ["g"] })
      assert.strictEqual(share.coordinators[0]!.errorCode, ErrorCode.INVALID_REQUEST)
    }).pipe(Effect.provide(broker())))
})
