// The classic consumer group protocol, as Apache Kafka's group coordinator runs it for one node. A group moves
// Empty → PreparingRebalance → CompletingRebalance → Stable (and Dead when deleted). JoinGroup parks each member
// until every known member has rejoined or the rebalance timeout passes (the first rebalance of an empty group
// waits `group.initial.rebalance.delay.ms` more for others); the next generation then starts, the leader gets
// every member's metadata and sends the assignment through SyncGroup, which parks the followers until it comes.
// Members that stop heartbeating within their session timeout are removed and the group rebalances; static
// members (`group.instance.id`) keep their place, and their assignment, when they restart.
//
// The state is plain data changed by synchronous functions (JavaScript runs one at a time, so each change is
// atomic); waits are Deferreds, timers are fibers keyed by what they time (a new timer for a key replaces the
// old), all on Effect's Clock so tests drive time with TestClock. Committed offsets are appended to
// `__consumer_offsets-0` through the LogStore, in Kafka's record format, before they are acknowledged, and read
// back at start.
import { Clock, Context, Deferred, Duration, Effect, FiberMap, Layer } from "effect"
import { bytesOf } from "../../protocol/Bytes.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { decodeOffsetKey, decodeOffsetValue, encodeOffsetKey, encodeOffsetValue } from "../../protocol/GroupRecords.ts"
import { decodeRecords, encodeBatch, readHeader, scanBatches } from "../../protocol/RecordBatch.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { StorageError, type UnknownTopicOrPartition } from "../Errors.ts"
import { LogStore, partitionName } from "../log/LogStore.ts"

export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead"

export interface Protocol {
  readonly name: string
  readonly metadata: Uint8Array
}

export interface JoinRequest {
  readonly groupId: string
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
  readonly protocolType: string
  readonly protocols: ReadonlyArray<Protocol>
  readonly clientId: string
  readonly clientHost: string
  /** JoinGroup v4+: a new member first gets its id with MEMBER_ID_REQUIRED and joins again with it. */
  readonly requireKnownMemberId: boolean
  /** JoinGroup v9+: a static leader rejoining a stable group need not assign again. */
  readonly supportsSkipAssignment: boolean
}

export interface JoinResult {
  readonly errorCode: number
  readonly generationId: number
  readonly protocolType: string | null
  readonly protocolName: string | null
  readonly leader: string
  readonly memberId: string
  readonly skipAssignment: boolean
  /** Every member's metadata for the chosen protocol, for the leader only. */
  readonly members: ReadonlyArray<{ readonly memberId: string; readonly groupInstanceId: string | null; readonly metadata: Uint8Array }>
}

export interface SyncRequest {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId: string | null
  /** SyncGroup v5+; null when the client does not say. */
  readonly protocolType: string | null
  readonly protocolName: string | null
  readonly assignments: ReadonlyArray<{ readonly memberId: string; readonly assignment: Uint8Array }>
}

export interface SyncResult {
  readonly errorCode: number
  readonly protocolType: string | null
  readonly protocolName: string | null
  readonly assignment: Uint8Array
}

export interface MemberRef {
  readonly memberId: string
  readonly groupInstanceId: string | null
}

export interface OffsetToCommit {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string | null
}

export interface CommittedOffset {
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string
  readonly commitTimestamp: number
}

export interface GroupDescription {
  readonly groupId: string
  readonly state: GroupState
  readonly protocolType: string
  readonly protocolName: string
  readonly members: ReadonlyArray<{
    readonly memberId: string
    readonly groupInstanceId: string | null
    readonly clientId: string
    readonly clientHost: string
    readonly metadata: Uint8Array
    readonly assignment: Uint8Array
  }>
}

export interface GroupListing {
  readonly groupId: string
  readonly protocolType: string
  readonly state: GroupState
}

export class GroupCoordinator extends Context.Service<GroupCoordinator, {
  readonly join: (request: JoinRequest) => Effect.Effect<JoinResult>
  readonly sync: (request: SyncRequest) => Effect.Effect<SyncResult>
  readonly heartbeat: (groupId: string, generationId: number, member: MemberRef) => Effect.Effect<number>
  /** The group's error code, and one per member. */
  readonly leave: (
    groupId: string,
    members: ReadonlyArray<MemberRef>
  ) => Effect.Effect<{ readonly errorCode: number; readonly members: ReadonlyArray<number> }>
  /** A group-level error code, or one per offset in order. */
  readonly commit: (
    groupId: string,
    generationId: number,
    member: MemberRef,
    offsets: ReadonlyArray<OffsetToCommit>
  ) => Effect.Effect<{ readonly errorCode: number; readonly partitions: ReadonlyArray<number> }, StorageError | UnknownTopicOrPartition>
  /** The committed offsets of the named partitions (never committed: undefined), or of every partition when null. */
  readonly committed: (
    groupId: string,
    partitions: ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<number> }> | null
  ) => Effect.Effect<ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly committed: CommittedOffset | undefined }>>
  readonly list: Effect.Effect<ReadonlyArray<GroupListing>>
  readonly describe: (groupId: string) => Effect.Effect<GroupDescription>
  /** 0, GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP. */
  readonly delete: (groupId: string) => Effect.Effect<number, StorageError | UnknownTopicOrPartition>
}>()("kafka/GroupCoordinator") {}

// ---------------------------------------------------------------------------------------------------------
// The state

interface Member {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  readonly protocolType: string
  protocols: ReadonlyArray<Protocol>
  assignment: Uint8Array
  awaitingJoin: ((result: JoinResult) => void) | undefined
  awaitingSync: ((result: SyncResult) => void) | undefined
  /** Joined in the current rebalance and not yet through a generation: its JoinGroup may time out. */
  isNew: boolean
}

interface Group {
  readonly id: string
  state: GroupState
  previousState: GroupState
  generationId: number
  protocolType: string | null
  protocolName: string | null
  leaderId: string | null
  /** In join order: the first member becomes leader when the leader goes. */
  readonly members: Map<string, Member>
  /** Member ids handed out with MEMBER_ID_REQUIRED, awaiting the member's second JoinGroup. */
  readonly pendingJoin: Set<string>
  /** Members of the new generation that have not sent SyncGroup yet. */
  readonly pendingSync: Set<string>
  /** group.instance.id → member id. */
  readonly staticMembers: Map<string, string>
  /** Whether a member joined during the first rebalance's delay (which then waits once more). */
  newMemberAdded: boolean
  /** "topic\u0000partition" → offset. */
  readonly offsets: Map<string, CommittedOffset & { readonly topic: string; readonly partition: number }>
}

const EMPTY_ASSIGNMENT = new Uint8Array(0)
/** A new member's JoinGroup cannot wait longer than this for the rebalance to finish (Kafka's 5 minutes). */
const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60_000
/** Where committed offsets are kept, in Kafka's own name and format. */
export const OFFSETS_PARTITION = { topic: "__consumer_offsets", partition: 0 } as const

const offsetKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

const newGroup = (id: string): Group => ({
  id,
  state: "Empty",
  previousState: "Empty",
  generationId: 0,
  protocolType: null,
  protocolName: null,
  leaderId: null,
  members: new Map(),
  pendingJoin: new Set(),
  pendingSync: new Set(),
  staticMembers: new Map(),
  newMemberAdded: false,
  offsets: new Map()
})

const failedJoin = (errorCode: number, memberId: string): JoinResult => ({
  errorCode,
  generationId: -1,
  protocolType: null,
  protocolName: null,
  leader: "",
  memberId,
  skipAssignment: false,
  members: []
})

const failedSync = (errorCode: number): SyncResult => ({
  errorCode,
  protocolType: null,
  protocolName: null,
  assignment: EMPTY_ASSIGNMENT
})

const transition = (group: Group, state: GroupState) => {
  group.previousState = group.state
  group.state = state
}

const numAwaitingJoin = (group: Group) => {
  let n = 0
  for (const m of group.members.values()) if (m.awaitingJoin !== undefined) n++
  return n
}

const hasAllMembersJoined = (group: Group) => group.members.size === numAwaitingJoin(group) && group.pendingJoin.size === 0

const rebalanceTimeoutMs = (group: Group) => {
  let max = 0
  for (const m of group.members.values()) max = Math.max(max, m.rebalanceTimeoutMs)
  return max
}

/** Protocols every member supports. */
const candidateProtocols = (group: Group): Set<string> => {
  const counts = new Map<string, number>()
  for (const m of group.members.values()) for (const p of m.protocols) counts.set(p.name, (counts.get(p.name) ?? 0) + 1)
  return new Set([...counts].filter(([, n]) => n === group.members.size).map(([name]) => name))
}

const supportsProtocols = (group: Group, protocolType: string, protocols: ReadonlyArray<Protocol>) => {
  if (group.state === "Empty") return protocolType !== "" && protocols.length > 0
  if (group.protocolType !== protocolType) return false
  const candidates = candidateProtocols(group)
  return protocols.some((p) => candidates.has(p.name))
}

/** Each member votes for its first preferred protocol among those all support; the most votes wins. */
const selectProtocol = (group: Group): string => {
  const candidates = candidateProtocols(group)
  const votes = new Map<string, number>()
  for (const m of group.members.values()) {
    const choice = m.protocols.find((p) => candidates.has(p.name))!.name
    votes.set(choice, (votes.get(choice) ?? 0) + 1)
  }
  let best = ""
  let most = -1
  for (const [name, n] of votes) {
    if (n > most) {
      best = name
      most = n
    }
  }
  return best
}

const sameProtocols = (a: ReadonlyArray<Protocol>, b: ReadonlyArray<Protocol>) =>
  a.length === b.length &&
  a.every((p, i) => p.name === b[i]!.name && p.metadata.length === b[i]!.metadata.length && p.metadata.every((x, j) => x === b[i]!.metadata[j]))

const metadataFor = (member: Member, protocolName: string | null) =>
  member.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY_ASSIGNMENT

const currentMembers = (group: Group) =>
  [...group.members.values()].map((m) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    metadata: metadataFor(m, group.protocolName)
  }))

/** UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, or 0 for a member the request names correctly. */
const validateMember = (group: Group, member: MemberRef): number => {
  if (member.groupInstanceId !== null) {
    const existing = group.staticMembers.get(member.groupInstanceId)
    if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
    if (existing !== member.memberId) return ErrorCode.FENCED_INSTANCE_ID
  }
  return group.members.has(member.memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID
}

// ---------------------------------------------------------------------------------------------------------
// The service

export const layer = Layer.effect(
  GroupCoordinator,
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const metadata = yield* ClusterMetadata
    const store = yield* LogStore
    const groups = new Map<string, Group>()
    /** Runs an effect under a key, interrupting what ran under it before: one timer per key. */
    const schedule = yield* FiberMap.makeRuntime<never, string>()
    const cancel = (key: string) => void schedule(key, Effect.void)
    const later = (key: string, ms: number, action: () => void) =>
      void schedule(key, Effect.andThen(Effect.sleep(Duration.millis(ms)), Effect.sync(action)))
    // Log lines from synchronous state changes go through the broker's logger, not the default one.
    const runFork = Effect.runForkWith(yield* Effect.context<never>())
    const log = (message: string) => void runFork(Effect.logInfo(message))

    const joinKey = (group: Group) => `join:${group.id}`
    const syncKey = (group: Group) => `sync:${group.id}`
    const heartbeatKey = (group: Group, memberId: string) => `heartbeat:${group.id}:${memberId}`

    // --- membership

    const rescheduleHeartbeat = (group: Group, member: Member, timeoutMs = member.sessionTimeoutMs) =>
      later(heartbeatKey(group, member.memberId), timeoutMs, () => expireHeartbeat(group, member.memberId))

    const removeMember = (group: Group, memberId: string) => {
      const member = group.members.get(memberId)
      // A request it still has parked is answered, or its connection would wait behind it forever.
      member?.awaitingJoin?.(failedJoin(ErrorCode.UNKNOWN_MEMBER_ID, ""))
      member?.awaitingSync?.(failedSync(ErrorCode.UNKNOWN_MEMBER_ID))
      group.members.delete(memberId)
      if (member?.groupInstanceId != null) group.staticMembers.delete(member.groupInstanceId)
      if (group.leaderId === memberId) group.leaderId = group.members.keys().next().value ?? null
      group.pendingJoin.delete(memberId)
      group.pendingSync.delete(memberId)
      cancel(heartbeatKey(group, memberId))
    }

    const expireHeartbeat = (group: Group, memberId: string) => {
      if (group.state === "Dead") return
      if (group.pendingJoin.has(memberId)) {
        log(`group ${group.id}: pending member ${memberId} did not rejoin within its session timeout`)
        group.pendingJoin.delete(memberId)
        if (group.state === "PreparingRebalance" && hasAllMembersJoined(group)) completeJoin(group)
        return
      }
      const member = group.members.get(memberId)
      if (member === undefined) return
      // A member parked in a rebalance is alive, unless it is new and its JoinGroup has waited too long.
      if (!member.isNew && (member.awaitingJoin !== undefined || member.awaitingSync !== undefined)) return
      log(`group ${group.id}: member ${memberId} timed out, removing it`)
      removeMemberAndRebalance(group, member)
    }

    const removeMemberAndRebalance = (group: Group, member: Member) => {
      removeMember(group, member.memberId)
      if (group.state === "Stable" || group.state === "CompletingRebalance") {
        prepareRebalance(group, `member ${member.memberId} left`)
      } else if (group.state === "PreparingRebalance" && hasAllMembersJoined(group)) {
        completeJoin(group)
      }
    }

    // --- rebalancing

    const propagateAssignment = (group: Group, errorCode: number) => {
      for (const member of group.members.values()) {
        const respond = member.awaitingSync
        if (respond === undefined) continue
        member.awaitingSync = undefined
        respond({
          errorCode,
          protocolType: errorCode === ErrorCode.NONE ? group.protocolType : null,
          protocolName: errorCode === ErrorCode.NONE ? group.protocolName : null,
          assignment: member.assignment
        })
        rescheduleHeartbeat(group, member)
      }
    }

    const prepareRebalance = (group: Group, reason: string) => {
      if (group.state === "CompletingRebalance") {
        for (const m of group.members.values()) m.assignment = EMPTY_ASSIGNMENT
        propagateAssignment(group, ErrorCode.REBALANCE_IN_PROGRESS)
      }
      group.pendingSync.clear()
      cancel(syncKey(group))
      const initial = group.state === "Empty"
      transition(group, "PreparingRebalance")
      log(`group ${group.id}: preparing to rebalance generation ${group.generationId} (${reason})`)
      if (initial) {
        // The first rebalance of an empty group waits for others to join, longer as more keep coming.
        const delay = config.groupInitialRebalanceDelayMs
        initialDelay(group, delay, Math.max(rebalanceTimeoutMs(group) - delay, 0))
      } else if (hasAllMembersJoined(group)) {
        completeJoin(group)
      } else {
        later(joinKey(group), rebalanceTimeoutMs(group), () => completeJoin(group))
      }
    }

    const initialDelay = (group: Group, delayMs: number, remainingMs: number) =>
      later(joinKey(group), delayMs, () => {
        if (group.newMemberAdded && remainingMs > 0) {
          group.newMemberAdded = false
          initialDelay(group, Math.min(config.groupInitialRebalanceDelayMs, remainingMs), Math.max(remainingMs - delayMs, 0))
        } else {
          completeJoin(group)
        }
      })

    /** Completes the join phase once every member is in, unless this is the first rebalance (it waits). */
    const maybeCompleteJoin = (group: Group) => {
      if (group.state === "PreparingRebalance" && group.previousState !== "Empty" && hasAllMembersJoined(group)) {
        completeJoin(group)
      }
    }

    const maybePrepareRebalanceOrCompleteJoin = (group: Group, reason: string) => {
      if (group.state === "Empty" || group.state === "Stable" || group.state === "CompletingRebalance") {
        prepareRebalance(group, reason)
      } else {
        maybeCompleteJoin(group)
      }
    }

    const completeJoin = (group: Group) => {
      cancel(joinKey(group))
      if (group.state !== "PreparingRebalance") return
      // Dynamic members that did not rejoin in time are gone; static ones keep their place.
      for (const m of [...group.members.values()]) {
        if (m.awaitingJoin === undefined && m.groupInstanceId === null) removeMember(group, m.memberId)
      }
      if (group.members.size > 0 && !electJoinedLeader(group)) {
        // Nobody rejoined: wait for session timeouts to clear the members out.
        later(joinKey(group), rebalanceTimeoutMs(group), () => completeJoin(group))
        return
      }
      group.generationId++
      group.pendingSync.clear()
      if (group.members.size === 0) {
        group.protocolName = null
        transition(group, "Empty")
        log(`group ${group.id}: generation ${group.generationId} is empty`)
        return
      }
      group.protocolName = selectProtocol(group)
      transition(group, "CompletingRebalance")
      log(`group ${group.id}: generation ${group.generationId} with ${group.members.size} members, leader ${group.leaderId}`)
      for (const member of group.members.values()) {
        const respond = member.awaitingJoin
        member.awaitingJoin = undefined
        respond?.({
          errorCode: ErrorCode.NONE,
          generationId: group.generationId,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          leader: group.leaderId ?? "",
          memberId: member.memberId,
          skipAssignment: false,
          members: member.memberId === group.leaderId ? currentMembers(group) : []
        })
        member.isNew = false
        rescheduleHeartbeat(group, member)
        group.pendingSync.add(member.memberId)
      }
      const generation = group.generationId
      later(syncKey(group), rebalanceTimeoutMs(group), () => expirePendingSync(group, generation))
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

    const expirePendingSync = (group: Group, generation: number) => {
      if (group.generationId !== generation || group.pendingSync.size === 0) return
      if (group.state !== "CompletingRebalance" && group.state !== "Stable") return
      const missing = [...group.pendingSync]
      for (const memberId of missing) removeMember(group, memberId)
      prepareRebalance(group, `members ${missing.join(", ")} did not send SyncGroup in time`)
    }

    // --- JoinGroup

    const addMember = (group: Group, request: JoinRequest, memberId: string, respond: (r: JoinResult) => void) => {
      const member: Member = {
        memberId,
        groupInstanceId: request.groupInstanceId,
        clientId: request.clientId,
        clientHost: request.clientHost,
        rebalanceTimeoutMs: request.rebalanceTimeoutMs,
        sessionTimeoutMs: request.sessionTimeoutMs,
        protocolType: request.protocolType,
        protocols: request.protocols,
        assignment: EMPTY_ASSIGNMENT,
        awaitingJoin: respond,
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
      rescheduleHeartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS)
      maybePrepareRebalanceOrCompleteJoin(group, `member ${memberId} joined`)
    }

    const updateMember = (group: Group, member: Member, request: JoinRequest, respond: (r: JoinResult) => void, reason: string) => {
      member.protocols = request.protocols
      member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
      member.sessionTimeoutMs = request.sessionTimeoutMs
      member.awaitingJoin = respond
      maybePrepareRebalanceOrCompleteJoin(group, reason)
    }

    const currentGeneration = (group: Group, memberId: string, withMembers: boolean, skipAssignment = false): JoinResult => ({
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? "",
      memberId,
      skipAssignment,
      members: withMembers ? currentMembers(group) : []
    })

    const joinNewMember = (group: Group, request: JoinRequest, respond: (r: JoinResult) => void) => {
      if (group.state === "Dead") return respond(failedJoin(ErrorCode.COORDINATOR_NOT_AVAILABLE, ""))
      if (!supportsProtocols(group, request.protocolType, request.protocols)) {
        return respond(failedJoin(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, ""))
      }
      const memberId = `${request.groupInstanceId ?? request.clientId}-${crypto.randomUUID()}`
      if (request.groupInstanceId !== null) {
        const existing = group.staticMembers.get(request.groupInstanceId)
        if (existing === undefined) return addMember(group, request, memberId, respond)
        return replaceStaticMember(group, request, existing, memberId, respond)
      }
      if (request.requireKnownMemberId) {
        group.pendingJoin.add(memberId)
        later(heartbeatKey(group, memberId), request.sessionTimeoutMs, () => expireHeartbeat(group, memberId))
        return respond({ ...failedJoin(ErrorCode.MEMBER_ID_REQUIRED, memberId) })
      }
      addMember(group, request, memberId, respond)
    }

    /** A static member came back with a new member id: it takes over its old place (and assignment). */
    const replaceStaticMember = (
      group: Group,
      request: JoinRequest,
      oldMemberId: string,
      newMemberId: string,
      respond: (r: JoinResult) => void
    ) => {
      const old = group.members.get(oldMemberId)!
      const previousLeader = group.leaderId ?? ""
      // The old incarnation's pending requests are answered: it has been fenced.
      old.awaitingJoin?.(failedJoin(ErrorCode.FENCED_INSTANCE_ID, oldMemberId))
      old.awaitingSync?.(failedSync(ErrorCode.FENCED_INSTANCE_ID))
      cancel(heartbeatKey(group, oldMemberId))
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
      rescheduleHeartbeat(group, member)

      if (group.state === "Stable" && selectProtocolWith(group) === group.protocolName) {
        // Nothing for the others to change: the member resumes with its assignment, no rebalance.
        // Before JoinGroup v9 a restarted leader is named the leader it was (the old id), as Kafka does: told it
        // leads, a client would assign with no members' metadata; as a follower it just syncs for its assignment.
        const isLeader = group.leaderId === newMemberId
        respond(
          request.supportsSkipAssignment
            ? currentGeneration(group, newMemberId, isLeader, isLeader)
            : { ...currentGeneration(group, newMemberId, false), leader: previousLeader }
        )
        return
      }
      member.awaitingJoin = respond
      if (group.state === "CompletingRebalance") return prepareRebalance(group, `static member ${request.groupInstanceId} rejoined`)
      maybePrepareRebalanceOrCompleteJoin(group, `static member ${request.groupInstanceId} rejoined with new protocols`)
    }

    const selectProtocolWith = (group: Group) => (group.members.size === 0 ? null : selectProtocol(group))

    const joinExistingMember = (group: Group, request: JoinRequest, respond: (r: JoinResult) => void) => {
      const { memberId } = request
      if (group.state === "Dead") return respond(failedJoin(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId))
      if (!supportsProtocols(group, request.protocolType, request.protocols)) {
        return respond(failedJoin(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId))
      }
      if (group.pendingJoin.has(memberId)) return addMember(group, request, memberId, respond)
      const invalid = validateMember(group, { memberId, groupInstanceId: request.groupInstanceId })
      if (invalid !== ErrorCode.NONE) return respond(failedJoin(invalid, memberId))
      const member = group.members.get(memberId)!
      switch (group.state) {
        case "PreparingRebalance":
          return updateMember(group, member, request, respond, `member ${memberId} rejoined`)
        case "CompletingRebalance":
          // The same metadata again: it lost the JoinGroup answer; answer it again.
          if (sameProtocols(member.protocols, request.protocols)) {
            return respond(currentGeneration(group, memberId, memberId === group.leaderId))
          }
          return updateMember(group, member, request, respond, `member ${memberId} changed its metadata`)
        case "Stable":
          if (memberId === group.leaderId || !sameProtocols(member.protocols, request.protocols)) {
            return updateMember(group, member, request, respond, `member ${memberId} rejoined the stable group`)
          }
          return respond(currentGeneration(group, memberId, false))
        default:
          return respond(failedJoin(ErrorCode.UNKNOWN_MEMBER_ID, memberId))
      }
    }

    const join = (request: JoinRequest) =>
      Effect.suspend(() => {
        const result = Deferred.makeUnsafe<JoinResult>()
        const respond = (r: JoinResult) => void Deferred.doneUnsafe(result, Effect.succeed(r))
        if (request.groupId === "") {
          respond(failedJoin(ErrorCode.INVALID_GROUP_ID, request.memberId))
        } else if (
          request.sessionTimeoutMs < config.groupMinSessionTimeoutMs || request.sessionTimeoutMs > config.groupMaxSessionTimeoutMs
        ) {
          respond(failedJoin(ErrorCode.INVALID_SESSION_TIMEOUT, request.memberId))
        } else {
          let group = groups.get(request.groupId)
          if (group === undefined && request.memberId !== "") {
            respond(failedJoin(ErrorCode.UNKNOWN_MEMBER_ID, request.memberId))
          } else {
            if (group === undefined) groups.set(request.groupId, (group = newGroup(request.groupId)))
            if (request.memberId === "") joinNewMember(group, request, respond)
            else joinExistingMember(group, request, respond)
          }
        }
        return Deferred.await(result)
      })

    // --- SyncGroup

    const sync = (request: SyncRequest) =>
      Effect.suspend(() => {
        const group = groups.get(request.groupId)
        if (group === undefined || group.members.size === 0) return Effect.succeed(failedSync(ErrorCode.UNKNOWN_MEMBER_ID))
        if (group.state === "Dead") return Effect.succeed(failedSync(ErrorCode.COORDINATOR_NOT_AVAILABLE))
        const invalid = validateMember(group, request)
        if (invalid !== ErrorCode.NONE) return Effect.succeed(failedSync(invalid))
        if (request.generationId !== group.generationId) return Effect.succeed(failedSync(ErrorCode.ILLEGAL_GENERATION))
        if (
          (request.protocolType !== null && request.protocolType !== group.protocolType) ||
          (request.protocolName !== null && request.protocolName !== group.protocolName)
        ) {
          return Effect.succeed(failedSync(ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
        }
        const member = group.members.get(request.memberId)!
        switch (group.state) {
          case "PreparingRebalance":
            return Effect.succeed(failedSync(ErrorCode.REBALANCE_IN_PROGRESS))
          case "Stable":
            group.pendingSync.delete(member.memberId)
            return Effect.succeed({
              errorCode: ErrorCode.NONE,
              protocolType: group.protocolType,
              protocolName: group.protocolName,
              assignment: member.assignment
            })
          case "CompletingRebalance": {
            const result = Deferred.makeUnsafe<SyncResult>()
            member.awaitingSync = (r) => void Deferred.doneUnsafe(result, Effect.succeed(r))
            group.pendingSync.delete(member.memberId)
            if (member.memberId === group.leaderId) {
              const assigned = new Map(request.assignments.map((a) => [a.memberId, a.assignment]))
              for (const m of group.members.values()) m.assignment = assigned.get(m.memberId) ?? EMPTY_ASSIGNMENT
              transition(group, "Stable")
              log(`group ${group.id}: generation ${group.generationId} is stable`)
              propagateAssignment(group, ErrorCode.NONE)
            }
            return Deferred.await(result)
          }
          default:
            return Effect.succeed(failedSync(ErrorCode.UNKNOWN_MEMBER_ID))
        }
      })

    // --- Heartbeat and LeaveGroup

    const heartbeat = (groupId: string, generationId: number, member: MemberRef) =>
      Effect.sync(() => {
        const group = groups.get(groupId)
        if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
        if (group.state === "Dead") return ErrorCode.COORDINATOR_NOT_AVAILABLE
        const invalid = validateMember(group, member)
        if (invalid !== ErrorCode.NONE) return invalid
        if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION
        const m = group.members.get(member.memberId)!
        switch (group.state) {
          case "Empty":
            return ErrorCode.UNKNOWN_MEMBER_ID
          case "PreparingRebalance":
            rescheduleHeartbeat(group, m)
            return ErrorCode.REBALANCE_IN_PROGRESS
          default:
            // Members may heartbeat between their JoinGroup and SyncGroup answers.
            rescheduleHeartbeat(group, m)
            return ErrorCode.NONE
        }
      })

    const leave = (groupId: string, members: ReadonlyArray<MemberRef>) =>
      Effect.sync(() => {
        const group = groups.get(groupId)
        if (group === undefined) return { errorCode: ErrorCode.NONE, members: members.map(() => ErrorCode.UNKNOWN_MEMBER_ID) }
        if (group.state === "Dead") return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] }
        const results = members.map((ref) => {
          // A static member may leave by its instance id alone.
          const memberId = ref.memberId === "" && ref.groupInstanceId !== null
            ? (group.staticMembers.get(ref.groupInstanceId) ?? "")
            : ref.memberId
          if (group.pendingJoin.has(memberId)) {
            group.pendingJoin.delete(memberId)
            cancel(heartbeatKey(group, memberId))
            if (group.state === "PreparingRebalance" && hasAllMembersJoined(group)) completeJoin(group)
            return ErrorCode.NONE
          }
          const invalid = validateMember(group, { memberId, groupInstanceId: ref.groupInstanceId })
          if (invalid !== ErrorCode.NONE) return invalid
          log(`group ${group.id}: member ${memberId} left`)
          removeMemberAndRebalance(group, group.members.get(memberId)!)
          return ErrorCode.NONE
        })
        return { errorCode: ErrorCode.NONE, members: results }
      })

    // --- Offsets

    const appendOffsets = (records: ReadonlyArray<{ key: Uint8Array; value: Uint8Array | null }>) =>
      Effect.gen(function*() {
        if (records.length === 0) return
        const batch = encodeBatch(records.map((r) => ({ key: r.key, value: r.value })), { timestamp: yield* Clock.currentTimeMillis })
        yield* store.append(OFFSETS_PARTITION, batch, readHeader(batch)).pipe(
          // These batches carry no producer id: sequence errors cannot happen.
          Effect.catchTag(["OutOfOrderSequence", "InvalidProducerEpoch"], (e) => Effect.die(e))
        )
      })

    const commit = (groupId: string, generationId: number, member: MemberRef, offsets: ReadonlyArray<OffsetToCommit>) =>
      Effect.gen(function*() {
        const failAll = (errorCode: number) => ({ errorCode, partitions: offsets.map(() => errorCode) })
        if (groupId === "") return failAll(ErrorCode.INVALID_GROUP_ID)
        let group = groups.get(groupId)
        if (group?.state === "Dead") return failAll(ErrorCode.COORDINATOR_NOT_AVAILABLE)
        const simple = generationId < 0 && member.memberId === "" && member.groupInstanceId === null
        if (group === undefined) {
          // Only a consumer outside any group (or an admin) commits to a group that does not exist: it is created.
          if (!simple) return failAll(ErrorCode.UNKNOWN_MEMBER_ID)
          groups.set(groupId, (group = newGroup(groupId)))
        } else if (simple) {
          if (group.state !== "Empty") return failAll(ErrorCode.UNKNOWN_MEMBER_ID)
        } else {
          const invalid = validateMember(group, member)
          if (invalid !== ErrorCode.NONE) return failAll(invalid)
          if (generationId !== group.generationId) return failAll(ErrorCode.ILLEGAL_GENERATION)
          if (group.state === "CompletingRebalance") return failAll(ErrorCode.REBALANCE_IN_PROGRESS)
          rescheduleHeartbeat(group, group.members.get(member.memberId)!)
        }
        const image = yield* metadata.image
        const now = yield* Clock.currentTimeMillis
        const codes = offsets.map((o) => {
          if (image.topics.get(o.topic)?.partitions[o.partition] === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          if ((o.metadata?.length ?? 0) > config.offsetMetadataMaxBytes) return ErrorCode.OFFSET_METADATA_TOO_LARGE
          return ErrorCode.NONE
        })
        const accepted = offsets.filter((_, i) => codes[i] === ErrorCode.NONE).map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          leaderEpoch: o.leaderEpoch,
          metadata: o.metadata ?? "",
          commitTimestamp: now
        }))
        yield* appendOffsets(accepted.map((o) => ({
          key: encodeOffsetKey({ group: groupId, topic: o.topic, partition: o.partition }),
          value: encodeOffsetValue(o)
        })))
        for (const o of accepted) group.offsets.set(offsetKey(o.topic, o.partition), o)
        return { errorCode: ErrorCode.NONE, partitions: codes }
      })

    const committed = (
      groupId: string,
      partitions: ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<number> }> | null
    ) =>
      Effect.sync(() => {
        const offsets = groups.get(groupId)?.offsets ?? new Map()
        if (partitions === null) {
          return [...offsets.values()]
            .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
            .map((o) => ({ topic: o.topic, partition: o.partition, committed: o as CommittedOffset | undefined }))
        }
        return partitions.flatMap((t) =>
          t.partitions.map((partition) => ({ topic: t.topic, partition, committed: offsets.get(offsetKey(t.topic, partition)) as CommittedOffset | undefined }))
        )
      })

    // --- Listing, describing, deleting

    const list = Effect.sync(() =>
      [...groups.values()].filter((g) => g.state !== "Dead").map((g) => ({
        groupId: g.id,
        protocolType: g.protocolType ?? "",
        state: g.state
      }))
    )

    const describe = (groupId: string) =>
      Effect.sync((): GroupDescription => {
        const group = groups.get(groupId)
        if (group === undefined) return { groupId, state: "Dead", protocolType: "", protocolName: "", members: [] }
        const stable = group.state === "Stable"
        return {
          groupId,
          state: group.state,
          protocolType: group.protocolType ?? "",
          protocolName: stable ? (group.protocolName ?? "") : "",
          members: [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            metadata: stable ? metadataFor(m, group.protocolName) : EMPTY_ASSIGNMENT,
            assignment: stable ? m.assignment : EMPTY_ASSIGNMENT
          }))
        }
      })

    const deleteGroup = (groupId: string) =>
      Effect.gen(function*() {
        const group = groups.get(groupId)
        if (group === undefined || group.state === "Dead") return ErrorCode.GROUP_ID_NOT_FOUND
        if (group.members.size > 0 || group.pendingJoin.size > 0) return ErrorCode.NON_EMPTY_GROUP
        yield* appendOffsets([...group.offsets.values()].map((o) => ({
          key: encodeOffsetKey({ group: groupId, topic: o.topic, partition: o.partition }),
          value: null
        })))
        // A request racing this one may have added a member meanwhile; the offsets are gone either way.
        group.offsets.clear()
        if (group.members.size === 0) {
          transition(group, "Dead")
          groups.delete(groupId)
        }
        yield* Effect.logInfo(`group ${groupId} deleted`)
        return ErrorCode.NONE
      })

    // --- Start: the committed offsets, replayed from their log (latest record per key wins)

    const { logEndOffset } = yield* store.offsets(OFFSETS_PARTITION)
    let next = 0
    let replayed = 0
    while (next < logEndOffset) {
      const read = yield* store.read(OFFSETS_PARTITION, next, 8 * 1024 * 1024, true)
      const records = yield* bytesOf(read.records).pipe(
        Effect.mapError((cause) => cause instanceof StorageError ? cause : new StorageError({ partition: partitionName(OFFSETS_PARTITION), cause }))
      )
      if (records.length === 0) break
      scanBatches(records, (header, position) => {
        next = header.baseOffset + header.lastOffsetDelta + 1
        for (const record of decodeRecords(records.subarray(position, position + header.size))) {
          const key = record.key === null ? undefined : decodeOffsetKey(record.key)
          if (key === undefined) continue
          replayed++
          let group = groups.get(key.group)
          if (record.value === null) {
            group?.offsets.delete(offsetKey(key.topic, key.partition))
            continue
          }
          if (group === undefined) groups.set(key.group, (group = newGroup(key.group)))
          const value = decodeOffsetValue(record.value)
          group.offsets.set(offsetKey(key.topic, key.partition), { topic: key.topic, partition: key.partition, ...value })
        }
      })
    }
    for (const [id, group] of groups) if (group.offsets.size === 0) groups.delete(id)
    yield* Effect.logInfo(`group coordinator: ${groups.size} groups with committed offsets (${replayed} offset records)`)

    return GroupCoordinator.of({ join, sync, heartbeat, leave, commit, committed, list, describe, delete: deleteGroup })
  })
)
