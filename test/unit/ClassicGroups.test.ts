// The classic group state machine alone, with no runtime: inputs go in, and what comes out is data (answers to
// parked requests by ticket, timers to start or stop, log lines). Time is whatever timers the test fires.
import { assert, describe, it } from "@effect/vitest"
import { ErrorCode } from "../../src/protocol/ErrorCode.ts"
import * as Classic from "../../src/services/group/ClassicGroups.ts"
import * as State from "../../src/services/group/GroupState.ts"
import type { JoinRequest } from "../../src/services/group/GroupCoordinator.ts"

const config = { initialRebalanceDelayMs: 3000, minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 300_000 }
const machine = () => {
  let n = 0
  return State.make(config, (prefix) => `${prefix}-${++n}`)
}

const join = (name: string, o: Partial<JoinRequest> = {}): JoinRequest => ({
  groupId: "g",
  memberId: "",
  groupInstanceId: null,
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 30_000,
  protocolType: "consumer",
  protocols: [{ name: "range", metadata: new TextEncoder().encode(name) }],
  clientId: name,
  clientHost: "/127.0.0.1",
  requireKnownMemberId: true,
  supportsSkipAssignment: false,
  ...o
})

const answers = (commands: ReadonlyArray<State.Command>) =>
  commands.filter((c): c is Extract<State.Command, { _tag: "Answer" }> => c._tag === "Answer")
const timers = (commands: ReadonlyArray<State.Command>) =>
  commands.filter((c): c is Extract<State.Command, { _tag: "Start" }> => c._tag === "Start")
const codeOf = (a: State.Answer) => (a._tag === "Failed" ? a.error.code : ErrorCode.NONE)

describe("ClassicGroups", () => {
  it("a new member gets MEMBER_ID_REQUIRED with its id and a session timer, then parks in the first rebalance", () => {
    const s = machine()
    const first = Classic.join(s, join("a"), 1)
    assert.deepStrictEqual(answers(first).map((a) => [a.ticket, codeOf(a.answer)]), [[1, ErrorCode.MEMBER_ID_REQUIRED]])
    const failed = answers(first)[0]!.answer
    const memberId = failed._tag === "Failed" && failed.error._tag === "MemberIdRequired" ? failed.error.memberId : ""
    assert.strictEqual(memberId, "a-1")
    assert.deepStrictEqual(timers(first).map((t) => [t.key, t.delayMs]), [["heartbeat:g:a-1", 10_000]])

    const second = Classic.join(s, join("a", { memberId }), 2)
    assert.deepStrictEqual(answers(second), [], "parked")
    const delay = timers(second).find((t) => t.key === "join:g")!
    assert.strictEqual(delay.delayMs, 3000)
    assert.strictEqual(s.groups.get("g")!.state, "PreparingRebalance")

    // The delay passes: the generation forms, the only member leads.
    const formed = Classic.fire(s, delay.timer)
    const joined = answers(formed)
    assert.deepStrictEqual(joined.map((a) => a.ticket), [2])
    const result = joined[0]!.answer
    assert.isTrue(result._tag === "Joined" && result.result.generationId === 1 && result.result.leader === "a-1" && result.result.members.length === 1)
    assert.strictEqual(s.groups.get("g")!.state, "CompletingRebalance")
    assert.isDefined(timers(formed).find((t) => t.key === "sync:g"))
  })

  it("the leader's SyncGroup makes the group stable and answers the parked followers with their assignments", () => {
    const s = machine()
    for (const [i, name] of ["a", "b"].entries()) Classic.join(s, join(name, { requireKnownMemberId: false }), i + 1)
    const delay = timers(Classic.join(s, join("c", { requireKnownMemberId: false }), 3)).find((t) => t.key === "join:g")
    assert.isUndefined(delay, "no new timer: the first rebalance is already waiting")
    const group = s.groups.get("g")!
    const start = Classic.fire(s, { _tag: "InitialDelay", group, delayMs: 3000, remainingMs: 0 })
    assert.strictEqual(answers(start).length, 3)
    const [leader, b, c] = [...group.members.keys()]
    const follower = Classic.sync(s, { groupId: "g", generationId: 1, memberId: b!, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }, 4)
    assert.deepStrictEqual(answers(follower), [], "a follower waits for the leader")
    const assignment = (m: string) => new TextEncoder().encode(`for ${m}`)
    const done = Classic.sync(s, {
      groupId: "g",
      generationId: 1,
      memberId: leader!,
      groupInstanceId: null,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [leader!, b!, c!].map((m) => ({ memberId: m, assignment: assignment(m) }))
    }, 5)
    assert.strictEqual(group.state, "Stable")
    const synced = answers(done)
    assert.deepStrictEqual(synced.map((a) => a.ticket).sort(), [4, 5])
    for (const a of synced) assert.isTrue(a.answer._tag === "Synced")
  })

  it("a member whose session timer fires is removed and the group rebalances without it", () => {
    const s = machine()
    Classic.join(s, join("a", { requireKnownMemberId: false }), 1)
    Classic.join(s, join("b", { requireKnownMemberId: false }), 2)
    const group = s.groups.get("g")!
    Classic.fire(s, { _tag: "InitialDelay", group, delayMs: 3000, remainingMs: 0 })
    const [a, b] = [...group.members.keys()]
    Classic.sync(s, { groupId: "g", generationId: 1, memberId: a!, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }, 3)
    Classic.sync(s, { groupId: "g", generationId: 1, memberId: b!, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }, 4)
    assert.strictEqual(group.state, "Stable")
    const expired = Classic.fire(s, { _tag: "SessionExpired", group, memberId: b! })
    assert.deepStrictEqual([...group.members.keys()], [a!])
    assert.strictEqual(group.state, "PreparingRebalance")
    assert.isTrue(expired.some((c) => c._tag === "Log" && c.message.includes(`member ${b} timed out`)))
    // The survivor's heartbeat now says: rejoin.
    const beat = Classic.heartbeat(s, "g", 1, { memberId: a!, groupInstanceId: null })
    assert.strictEqual(beat.result?.code, ErrorCode.REBALANCE_IN_PROGRESS)
  })

  it("a static member restarting in a stable group takes its old place without a rebalance", () => {
    const s = machine()
    Classic.join(s, join("a", { groupInstanceId: "static-a" }), 1)
    const group = s.groups.get("g")!
    Classic.fire(s, { _tag: "InitialDelay", group, delayMs: 3000, remainingMs: 0 })
    const [oldId] = [...group.members.keys()]
    Classic.sync(s, { groupId: "g", generationId: 1, memberId: oldId!, groupInstanceId: "static-a", protocolType: null, protocolName: null, assignments: [{ memberId: oldId!, assignment: new Uint8Array([1]) }] }, 2)
    const back = Classic.join(s, join("a", { groupInstanceId: "static-a" }), 3)
    const answer = answers(back)[0]!.answer
    assert.isTrue(answer._tag === "Joined" && answer.result.generationId === 1)
    assert.strictEqual(group.state, "Stable")
    assert.notStrictEqual([...group.members.keys()][0], oldId)
    // The old incarnation is fenced.
    assert.strictEqual(Classic.heartbeat(s, "g", 1, { memberId: oldId!, groupInstanceId: "static-a" }).result?.code, ErrorCode.FENCED_INSTANCE_ID)
  })

  it("requests that name no group or a wrong generation get Kafka's errors, and change nothing", () => {
    const s = machine()
    assert.strictEqual(codeOf(answers(Classic.join(s, join("a", { groupId: "" }), 1))[0]!.answer), ErrorCode.INVALID_GROUP_ID)
    assert.strictEqual(codeOf(answers(Classic.join(s, join("a", { sessionTimeoutMs: 100 }), 2))[0]!.answer), ErrorCode.INVALID_SESSION_TIMEOUT)
    assert.strictEqual(codeOf(answers(Classic.join(s, join("a", { memberId: "made-up" }), 3))[0]!.answer), ErrorCode.UNKNOWN_MEMBER_ID)
    assert.strictEqual(s.groups.size, 0)
    assert.strictEqual(Classic.heartbeat(s, "g", 1, { memberId: "x", groupInstanceId: null }).result?.code, ErrorCode.UNKNOWN_MEMBER_ID)
    assert.deepStrictEqual(Classic.leave(s, "g", [{ memberId: "x", groupInstanceId: null }]).result.members.map((e) => e?.code), [ErrorCode.UNKNOWN_MEMBER_ID])
    assert.strictEqual((State.deletable(s, "g") as { code?: number }).code, ErrorCode.GROUP_ID_NOT_FOUND)
  })
})
