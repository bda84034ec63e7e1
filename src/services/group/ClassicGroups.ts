// The classic consumer group protocol as a pure state machine, as Apache Kafka's group coordinator runs it for
// one node. A group moves Empty → PreparingRebalance → CompletingRebalance → Stable (and Dead when deleted).
// JoinGroup parks each member until every known member has rejoined or the rebalance timeout passes (the first
// rebalance of an empty group waits `group.initial.rebalance.delay.ms` more for others); the next generation
// then starts, the leader gets every member's metadata and sends the assignment through SyncGroup, which parks
// the followers until it comes. Members that stop heartbeating within their session timeout are removed and the
// group rebalances; static members (`group.instance.id`) keep their place, and their assignment, when they
// restart.
//
// Every input (a request, a timer firing) changes the plain state and answers what to do as data: answers to
// parked requests (by ticket), timers to start or stop (by key; a new timer for a key replaces the old), lines to
// log. Nothing here runs effects, reads a clock or writes a file: the shell (layers/group/) does, and the unit
// tests drive this directly. The state and reading it are in GroupState.ts.
import {
  CoordinatorNotAvailable,
  FencedInstanceId,
  type GroupError,
  IllegalGeneration,
  InconsistentGroupProtocol,
  InvalidGroupId,
  InvalidSessionTimeout,
  MemberIdRequired,
  RebalanceInProgress,
  UnknownMemberId
} from "../Errors.ts"
import type { JoinRequest, MemberRef, SyncRequest } from "./GroupCoordinator.ts"
import {
  type Answer,
  type Command,
  currentGeneration,
  EMPTY,
  type Group,
  type Groups,
  hasAllMembersJoined,
  type Member,
  NEW_MEMBER_JOIN_TIMEOUT_MS,
  newGroup,
  rebalanceTimeoutMs,
  sameProtocols,
  selectProtocol,
  supportsProtocols,
  type Ticket,
  type Timer,
  transition,
  validateMember
} from "./GroupState.ts"

// ---------------------------------------------------------------------------------------------------------
// The machine. Each input runs in a Step that collects what the shell must do.

class Step {
  readonly out: Array<Command> = []
  readonly s: Groups
  constructor(s: Groups) {
    this.s = s
  }

  answer(ticket: Ticket | undefined, answer: Answer) {
    if (ticket !== undefined) this.out.push({ _tag: "Answer", ticket, answer })
  }
  fail(ticket: Ticket | undefined, error: GroupError) {
    this.answer(ticket, { _tag: "Failed", error })
  }
  later(key: string, delayMs: number, timer: Timer) {
    this.out.push({ _tag: "Start", key, delayMs, timer })
  }
  cancel(key: string) {
    this.out.push({ _tag: "Stop", key })
  }
  log(message: string) {
    this.out.push({ _tag: "Log", message })
  }
}

const joinKey = (group: Group) => `join:${group.id}`
const syncKey = (group: Group) => `sync:${group.id}`
const heartbeatKey = (group: Group, memberId: string) => `heartbeat:${group.id}:${memberId}`

// --- membership

const rescheduleHeartbeat = (step: Step, group: Group, member: Member, timeoutMs = member.sessionTimeoutMs) =>
  step.later(heartbeatKey(group, member.memberId), timeoutMs, { _tag: "SessionExpired", group, memberId: member.memberId })

const removeMember = (step: Step, group: Group, memberId: string) => {
  const member = group.members.get(memberId)
  // A request it still has parked is answered, or its connection would wait behind it forever.
  step.fail(member?.awaitingJoin, new UnknownMemberId({ memberId: "" }))
  step.fail(member?.awaitingSync, new UnknownMemberId({}))
  group.members.delete(memberId)
  if (member?.groupInstanceId != null) group.staticMembers.delete(member.groupInstanceId)
  if (group.leaderId === memberId) group.leaderId = group.members.keys().next().value ?? null
  group.pendingJoin.delete(memberId)
  group.pendingSync.delete(memberId)
  step.cancel(heartbeatKey(group, memberId))
}

const expireSession = (step: Step, group: Group, memberId: string) => {
  if (group.state === "Dead") return
  if (group.pendingJoin.has(memberId)) {
    step.log(`group ${group.id}: pending member ${memberId} did not rejoin within its session timeout`)
    group.pendingJoin.delete(memberId)
    if (group.state === "PreparingRebalance" && hasAllMembersJoined(group)) completeJoin(step, group)
    return
  }
  const member = group.members.get(memberId)
  if (member === undefined) return
  // A member parked in a rebalance is alive, unless it is new and its JoinGroup has waited too long.
  if (!member.isNew && (member.awaitingJoin !== undefined || member.awaitingSync !== undefined)) return
  step.log(`group ${group.id}: member ${memberId} timed out, removing it`)
  removeMemberAndRebalance(step, group, member)
}

const removeMemberAndRebalance = (step: Step, group: Group, member: Member) => {
  removeMember(step, group, member.memberId)
  if (group.state === "Stable" || group.state === "CompletingRebalance") {
    prepareRebalance(step, group, `member ${member.memberId} left`)
  } else if (group.state === "PreparingRebalance" && hasAllMembersJoined(group)) {
    completeJoin(step, group)
  }
}

// --- rebalancing

const propagateAssignment = (step: Step, group: Group, error: GroupError | undefined) => {
  for (const member of group.members.values()) {
    const ticket = member.awaitingSync
    if (ticket === undefined) continue
    member.awaitingSync = undefined
    if (error !== undefined) step.fail(ticket, error)
    else {
      step.answer(ticket, {
        _tag: "Synced",
        result: { protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment }
      })
    }
    rescheduleHeartbeat(step, group, member)
  }
}

const prepareRebalance = (step: Step, group: Group, reason: string) => {
  if (group.state === "CompletingRebalance") {
    for (const m of group.members.values()) m.assignment = EMPTY
    propagateAssignment(step, group, new RebalanceInProgress({}))
  }
  group.pendingSync.clear()
  step.cancel(syncKey(group))
  const initial = group.state === "Empty"
  transition(group, "PreparingRebalance")
  step.log(`group ${group.id}: preparing to rebalance generation ${group.generationId} (${reason})`)
  if (initial) {
    // The first rebalance of an empty group waits for others to join, longer as more keep coming.
    const delayMs = step.s.config.initialRebalanceDelayMs
    step.later(joinKey(group), delayMs, { _tag: "InitialDelay", group, delayMs, remainingMs: Math.max(rebalanceTimeoutMs(group) - delayMs, 0) })
  } else if (hasAllMembersJoined(group)) {
    completeJoin(step, group)
  } else {
    step.later(joinKey(group), rebalanceTimeoutMs(group), { _tag: "JoinDeadline", group })
  }
}

const initialDelayOver = (step: Step, group: Group, delayMs: number, remainingMs: number) => {
  if (group.newMemberAdded && remainingMs > 0) {
    group.newMemberAdded = false
    const next = Math.min(step.s.config.initialRebalanceDelayMs, remainingMs)
    step.later(joinKey(group), next, { _tag: "InitialDelay", group, delayMs: next, remainingMs: Math.max(remainingMs - delayMs, 0) })
  } else {
    completeJoin(step, group)
  }
}

/** Completes the join phase once every member is in, unless this is the first rebalance (it waits). */
const maybeCompleteJoin = (step: Step, group: Group) => {
  if (group.state === "PreparingRebalance" && group.previousState !== "Empty" && hasAllMembersJoined(group)) completeJoin(step, group)
}

const maybePrepareRebalanceOrCompleteJoin = (step: Step, group: Group, reason: string) => {
  if (group.state === "Empty" || group.state === "Stable" || group.state === "CompletingRebalance") prepareRebalance(step, group, reason)
  else maybeCompleteJoin(step, group)
}

const completeJoin = (step: Step, group: Group) => {
  step.cancel(joinKey(group))
  if (group.state !== "PreparingRebalance") return
  // Dynamic members that did not rejoin in time are gone; static ones keep their place.
  for (const m of [...group.members.values()]) {
    if (m.awaitingJoin === undefined && m.groupInstanceId === null) removeMember(step, group, m.memberId)
  }
  if (group.members.size > 0 && !electJoinedLeader(group)) {
    // Nobody rejoined: wait for session timeouts to clear the members out.
    step.later(joinKey(group), rebalanceTimeoutMs(group), { _tag: "JoinDeadline", group })
    return
  }
  group.generationId++
  group.pendingSync.clear()
  if (group.members.size === 0) {
    group.protocolName = null
    transition(group, "Empty")
    step.log(`group ${group.id}: generation ${group.generationId} is empty`)
    return
  }
  group.protocolName = selectProtocol(group)
  transition(group, "CompletingRebalance")
  step.log(`group ${group.id}: generation ${group.generationId} with ${group.members.size} members, leader ${group.leaderId}`)
  for (const member of group.members.values()) {
    const ticket = member.awaitingJoin
    member.awaitingJoin = undefined
    step.answer(ticket, { _tag: "Joined", result: currentGeneration(group, member.memberId, member.memberId === group.leaderId) })
    member.isNew = false
    rescheduleHeartbeat(step, group, member)
    group.pendingSync.add(member.memberId)
  }
  step.later(syncKey(group), rebalanceTimeoutMs(group), { _tag: "SyncDeadline", group, generation: group.generationId })
}

/** Keeps the leader if it rejoined, else elects a member that did; false when none did. */
const electJoinedLeader = (group: Group): boolean => {
  const leader = group.leaderId === null ? undefined : group.members.get(group.leaderId)
  if (leader?.awaitingJoin !== undefined) return true
  for (const m of group.members.values()) {
    if (m.awaitingJoin !== undefined) {
      group.leaderId = m.memberId
      return true
    }
  }
  return false
}

const expirePendingSync = (step: Step, group: Group, generation: number) => {
  if (group.generationId !== generation || group.pendingSync.size === 0) return
  if (group.state !== "CompletingRebalance" && group.state !== "Stable") return
  const missing = [...group.pendingSync]
  for (const memberId of missing) removeMember(step, group, memberId)
  prepareRebalance(step, group, `members ${missing.join(", ")} did not send SyncGroup in time`)
}

/** A timer the shell started has fired. */
export const fire = (s: Groups, timer: Timer): Array<Command> => {
  const step = new Step(s)
  switch (timer._tag) {
    case "SessionExpired":
      expireSession(step, timer.group, timer.memberId)
      break
    case "JoinDeadline":
      completeJoin(step, timer.group)
      break
    case "InitialDelay":
      initialDelayOver(step, timer.group, timer.delayMs, timer.remainingMs)
      break
    case "SyncDeadline":
      expirePendingSync(step, timer.group, timer.generation)
      break
  }
  return step.out
}

// --- JoinGroup

const addMember = (step: Step, group: Group, request: JoinRequest, memberId: string, ticket: Ticket) => {
  const member: Member = {
    memberId,
    groupInstanceId: request.groupInstanceId,
    clientId: request.clientId,
    clientHost: request.clientHost,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs,
    sessionTimeoutMs: request.sessionTimeoutMs,
    protocolType: request.protocolType,
    protocols: request.protocols,
    assignment: EMPTY,
    awaitingJoin: ticket,
    awaitingSync: undefined,
    isNew: true
  }
  if (group.state === "PreparingRebalance" && group.previousState === "Empty") group.newMemberAdded = true
  if (group.members.size === 0) group.protocolType = request.protocolType
  group.members.set(memberId, member)
  group.pendingJoin.delete(memberId)
  if (group.leaderId === null) group.leaderId = memberId
  if (member.groupInstanceId !== null) group.staticMembers.set(member.groupInstanceId, memberId)
  // A new member cannot heartbeat yet; its JoinGroup times out instead, and it may retry.
  rescheduleHeartbeat(step, group, member, NEW_MEMBER_JOIN_TIMEOUT_MS)
  maybePrepareRebalanceOrCompleteJoin(step, group, `member ${memberId} joined`)
}

const updateMember = (step: Step, group: Group, member: Member, request: JoinRequest, ticket: Ticket, reason: string) => {
  member.protocols = request.protocols
  member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
  member.sessionTimeoutMs = request.sessionTimeoutMs
  member.awaitingJoin = ticket
  maybePrepareRebalanceOrCompleteJoin(step, group, reason)
}

const joinNewMember = (step: Step, group: Group, request: JoinRequest, ticket: Ticket) => {
  if (group.state === "Dead") return step.fail(ticket, new CoordinatorNotAvailable({}))
  if (!supportsProtocols(group, request.protocolType, request.protocols)) return step.fail(ticket, new InconsistentGroupProtocol({}))
  const memberId = step.s.newMemberId(request.groupInstanceId ?? request.clientId)
  if (request.groupInstanceId !== null) {
    const existing = group.staticMembers.get(request.groupInstanceId)
    if (existing === undefined) return addMember(step, group, request, memberId, ticket)
    return replaceStaticMember(step, group, request, existing, memberId, ticket)
  }
  if (request.requireKnownMemberId) {
    group.pendingJoin.add(memberId)
    step.later(heartbeatKey(group, memberId), request.sessionTimeoutMs, { _tag: "SessionExpired", group, memberId })
    return step.fail(ticket, new MemberIdRequired({ memberId }))
  }
  addMember(step, group, request, memberId, ticket)
}

/** A static member came back with a new member id: it takes over its old place (and assignment). */
const replaceStaticMember = (step: Step, group: Group, request: JoinRequest, oldMemberId: string, newMemberId: string, ticket: Ticket) => {
  const old = group.members.get(oldMemberId)!
  const previousLeader = group.leaderId ?? ""
  // The old incarnation's pending requests are answered: it has been fenced.
  step.fail(old.awaitingJoin, new FencedInstanceId({}))
  step.fail(old.awaitingSync, new FencedInstanceId({}))
  step.cancel(heartbeatKey(group, oldMemberId))
  const member: Member = {
    ...old,
    memberId: newMemberId,
    clientId: request.clientId,
    clientHost: request.clientHost,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs,
    sessionTimeoutMs: request.sessionTimeoutMs,
    protocols: request.protocols,
    awaitingJoin: undefined,
    awaitingSync: undefined
  }
  // Same position in join order, so a leader stays leader.
  const entries = [...group.members].map(([id, m]): [string, Member] => (id === oldMemberId ? [newMemberId, member] : [id, m]))
  group.members.clear()
  for (const [id, m] of entries) group.members.set(id, m)
  group.staticMembers.set(request.groupInstanceId!, newMemberId)
  if (group.leaderId === oldMemberId) group.leaderId = newMemberId
  if (group.pendingSync.delete(oldMemberId)) group.pendingSync.add(newMemberId)
  rescheduleHeartbeat(step, group, member)

  if (group.state === "Stable" && (group.members.size === 0 ? null : selectProtocol(group)) === group.protocolName) {
    // Nothing for the others to change: the member resumes with its assignment, no rebalance.
    // Before JoinGroup v9 a restarted leader is named the leader it was (the old id), as Kafka does: told it
    // leads, a client would assign with no members' metadata; as a follower it just syncs for its assignment.
    const isLeader = group.leaderId === newMemberId
    const result = request.supportsSkipAssignment
      ? currentGeneration(group, newMemberId, isLeader, isLeader)
      : { ...currentGeneration(group, newMemberId, false), leader: previousLeader }
    return step.answer(ticket, { _tag: "Joined", result })
  }
  member.awaitingJoin = ticket
  if (group.state === "CompletingRebalance") return prepareRebalance(step, group, `static member ${request.groupInstanceId} rejoined`)
  maybePrepareRebalanceOrCompleteJoin(step, group, `static member ${request.groupInstanceId} rejoined with new protocols`)
}

const joinExistingMember = (step: Step, group: Group, request: JoinRequest, ticket: Ticket) => {
  const { memberId } = request
  if (group.state === "Dead") return step.fail(ticket, new CoordinatorNotAvailable({}))
  if (!supportsProtocols(group, request.protocolType, request.protocols)) return step.fail(ticket, new InconsistentGroupProtocol({}))
  if (group.pendingJoin.has(memberId)) return addMember(step, group, request, memberId, ticket)
  const invalid = validateMember(group, { memberId, groupInstanceId: request.groupInstanceId })
  if (invalid !== undefined) return step.fail(ticket, invalid)
  const member = group.members.get(memberId)!
  switch (group.state) {
    case "PreparingRebalance":
      return updateMember(step, group, member, request, ticket, `member ${memberId} rejoined`)
    case "CompletingRebalance":
      // The same metadata again: it lost the JoinGroup answer; answer it again.
      if (sameProtocols(member.protocols, request.protocols)) {
        return step.answer(ticket, { _tag: "Joined", result: currentGeneration(group, memberId, memberId === group.leaderId) })
      }
      return updateMember(step, group, member, request, ticket, `member ${memberId} changed its metadata`)
    case "Stable":
      if (memberId === group.leaderId || !sameProtocols(member.protocols, request.protocols)) {
        return updateMember(step, group, member, request, ticket, `member ${memberId} rejoined the stable group`)
      }
      return step.answer(ticket, { _tag: "Joined", result: currentGeneration(group, memberId, false) })
    default:
      return step.fail(ticket, new UnknownMemberId({}))
  }
}

/** JoinGroup: answered (now or when the generation forms) under `ticket`. */
export const join = (s: Groups, request: JoinRequest, ticket: Ticket): Array<Command> => {
  const step = new Step(s)
  if (request.groupId === "") {
    step.fail(ticket, new InvalidGroupId({}))
  } else if (request.sessionTimeoutMs < s.config.minSessionTimeoutMs || request.sessionTimeoutMs > s.config.maxSessionTimeoutMs) {
    step.fail(ticket, new InvalidSessionTimeout({}))
  } else {
    let group = s.groups.get(request.groupId)
    if (group === undefined && request.memberId !== "") {
      step.fail(ticket, new UnknownMemberId({}))
    } else {
      if (group === undefined) s.groups.set(request.groupId, (group = newGroup(request.groupId)))
      if (request.memberId === "") joinNewMember(step, group, request, ticket)
      else joinExistingMember(step, group, request, ticket)
    }
  }
  return step.out
}

// --- SyncGroup, Heartbeat, LeaveGroup

/** SyncGroup: answered (now, or when the leader's assignment comes) under `ticket`. */
export const sync = (s: Groups, request: SyncRequest, ticket: Ticket): Array<Command> => {
  const step = new Step(s)
  const group = s.groups.get(request.groupId)
  const member = group?.members.get(request.memberId)
  const error = group === undefined || group.members.size === 0
    ? new UnknownMemberId({})
    : group.state === "Dead"
    ? new CoordinatorNotAvailable({})
    : validateMember(group, request) ??
      (request.generationId !== group.generationId
        ? new IllegalGeneration({})
        : (request.protocolType !== null && request.protocolType !== group.protocolType) ||
            (request.protocolName !== null && request.protocolName !== group.protocolName)
        ? new InconsistentGroupProtocol({})
        : undefined)
  if (error !== undefined || group === undefined || member === undefined) {
    step.fail(ticket, error ?? new UnknownMemberId({}))
    return step.out
  }
  switch (group.state) {
    case "PreparingRebalance":
      step.fail(ticket, new RebalanceInProgress({}))
      break
    case "Stable":
      group.pendingSync.delete(member.memberId)
      step.answer(ticket, { _tag: "Synced", result: { protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment } })
      break
    case "CompletingRebalance":
      member.awaitingSync = ticket
      group.pendingSync.delete(member.memberId)
      if (member.memberId === group.leaderId) {
        const assigned = new Map(request.assignments.map((a) => [a.memberId, a.assignment]))
        for (const m of group.members.values()) m.assignment = assigned.get(m.memberId) ?? EMPTY
        transition(group, "Stable")
        step.log(`group ${group.id}: generation ${group.generationId} is stable`)
        propagateAssignment(step, group, undefined)
      }
      break
    default:
      step.fail(ticket, new UnknownMemberId({}))
  }
  return step.out
}

export interface Outcome<A> {
  readonly result: A
  readonly commands: Array<Command>
}

/** Heartbeat: the error it answers (none: the session goes on). */
export const heartbeat = (s: Groups, groupId: string, generationId: number, ref: MemberRef): Outcome<GroupError | undefined> => {
  const step = new Step(s)
  const result = ((): GroupError | undefined => {
    const group = s.groups.get(groupId)
    if (group === undefined) return new UnknownMemberId({})
    if (group.state === "Dead") return new CoordinatorNotAvailable({})
    const invalid = validateMember(group, ref)
    if (invalid !== undefined) return invalid
    if (generationId !== group.generationId) return new IllegalGeneration({})
    const member = group.members.get(ref.memberId)!
    if (group.state === "Empty") return new UnknownMemberId({})
    // Members may heartbeat between their JoinGroup and SyncGroup answers.
    rescheduleHeartbeat(step, group, member)
    return group.state === "PreparingRebalance" ? new RebalanceInProgress({}) : undefined
  })()
  return { result, commands: step.out }
}

/** LeaveGroup: the group's error, or one per member (undefined: it left). */
export const leave = (
  s: Groups,
  groupId: string,
  members: ReadonlyArray<MemberRef>
): Outcome<{ readonly error: GroupError | undefined; readonly members: ReadonlyArray<GroupError | undefined> }> => {
  const step = new Step(s)
  const group = s.groups.get(groupId)
  if (group === undefined) return { result: { error: undefined, members: members.map(() => new UnknownMemberId({})) }, commands: [] }
  if (group.state === "Dead") return { result: { error: new CoordinatorNotAvailable({}), members: [] }, commands: [] }
  const results = members.map((ref): GroupError | undefined => {
    // A static member may leave by its instance id alone.
    const memberId = ref.memberId === "" && ref.groupInstanceId !== null ? (group.staticMembers.get(ref.groupInstanceId) ?? "") : ref.memberId
    if (group.pendingJoin.has(memberId)) {
      group.pendingJoin.delete(memberId)
      step.cancel(heartbeatKey(group, memberId))
      if (group.state === "PreparingRebalance" && hasAllMembersJoined(group)) completeJoin(step, group)
      return undefined
    }
    const invalid = validateMember(group, { memberId, groupInstanceId: ref.groupInstanceId })
    if (invalid !== undefined) return invalid
    step.log(`group ${group.id}: member ${memberId} left`)
    removeMemberAndRebalance(step, group, group.members.get(memberId)!)
    return undefined
  })
  return { result: { error: undefined, members: results }, commands: step.out }
}

// --- Offsets

/**
 * Whether this member (or a consumer outside any group: generation < 0, no member id) may commit to the group,
 * creating the group for such a consumer; a member's commit counts as a heartbeat.
 */
export const admitCommit = (s: Groups, groupId: string, generationId: number, ref: MemberRef): Outcome<GroupError | Group> => {
  const step = new Step(s)
  const result = ((): GroupError | Group => {
    if (groupId === "") return new InvalidGroupId({})
    let group = s.groups.get(groupId)
    if (group?.state === "Dead") return new CoordinatorNotAvailable({})
    const simple = generationId < 0 && ref.memberId === "" && ref.groupInstanceId === null
    if (group === undefined) {
      // Only a consumer outside any group (or an admin) commits to a group that does not exist: it is created.
      if (!simple) return new UnknownMemberId({})
      s.groups.set(groupId, (group = newGroup(groupId)))
      return group
    }
    if (simple) return group.state === "Empty" ? group : new UnknownMemberId({})
    const invalid = validateMember(group, ref)
    if (invalid !== undefined) return invalid
    if (generationId !== group.generationId) return new IllegalGeneration({})
    if (group.state === "CompletingRebalance") return new RebalanceInProgress({})
    rescheduleHeartbeat(step, group, group.members.get(ref.memberId)!)
    return group
  })()
  return { result, commands: step.out }
}

