// The classic groups' state, as plain data: groups, their members (with the tickets of the requests they have
// parked), their committed offsets and the offsets transactions committed but have not ended yet; the commands
// the state machine (ClassicGroups.ts) answers; and reading the state: which protocol the members share, who the
// request names, what a describe or an offset fetch shows.
import { subscribedTopics as subscriptionTopics } from "../../protocol/ConsumerProtocol.ts"
import {
  CoordinatorNotAvailable,
  FencedInstanceId,
  type GroupError,
  GroupIdNotFound,
  GroupSubscribedToTopic,
  IllegalGeneration,
  InvalidGroupId,
  NonEmptyGroup,
  UnknownMemberId
} from "../Errors.ts"
import type {
  CommittedOffset,
  GroupDescription,
  GroupListing,
  GroupState,
  JoinResult,
  MemberRef,
  Protocol,
  SyncResult
} from "./GroupCoordinator.ts"

/** Which parked request an answer is for. */
export type Ticket = number

export type Answer =
  | { readonly _tag: "Joined"; readonly result: JoinResult }
  | { readonly _tag: "Synced"; readonly result: SyncResult }
  | { readonly _tag: "Failed"; readonly error: GroupError }

export type Timer =
  | { readonly _tag: "SessionExpired"; readonly group: Group; readonly memberId: string }
  | { readonly _tag: "JoinDeadline"; readonly group: Group }
  | { readonly _tag: "InitialDelay"; readonly group: Group; readonly delayMs: number; readonly remainingMs: number }
  | { readonly _tag: "SyncDeadline"; readonly group: Group; readonly generation: number }

export type Command =
  | { readonly _tag: "Answer"; readonly ticket: Ticket; readonly answer: Answer }
  | { readonly _tag: "Start"; readonly key: string; readonly delayMs: number; readonly timer: Timer }
  | { readonly _tag: "Stop"; readonly key: string }
  | { readonly _tag: "Log"; readonly message: string }

export interface Member {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  readonly protocolType: string
  protocols: ReadonlyArray<Protocol>
  assignment: Uint8Array
  awaitingJoin: Ticket | undefined
  awaitingSync: Ticket | undefined
  /** Joined in the current rebalance and not yet through a generation: its JoinGroup may time out. */
  isNew: boolean
}

export interface Group {
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
  readonly offsets: Map<string, StoredOffset>
}

/** A committed offset as kept: its partition, and where its record is in the offsets log (later records win). */
export interface StoredOffset extends CommittedOffset {
  readonly topic: string
  readonly partition: number
  readonly recordOffset: number
}

export interface GroupsConfig {
  readonly initialRebalanceDelayMs: number
  readonly minSessionTimeoutMs: number
  readonly maxSessionTimeoutMs: number
}

export interface Groups {
  readonly groups: Map<string, Group>
  readonly config: GroupsConfig
  /** A new member id for a client (its client id or group instance id, then a UUID). */
  readonly newMemberId: (prefix: string) => string
  /**
   * Offsets committed inside transactions that have not ended: producer id → group → "topic\u0000partition" →
   * offset. They become committed offsets when the transaction commits and are dropped when it aborts.
   */
  readonly pendingTxnOffsets: Map<number, Map<string, Map<string, StoredOffset>>>
}

export const make = (config: GroupsConfig, newMemberId: (prefix: string) => string): Groups => ({
  groups: new Map(),
  config,
  newMemberId,
  pendingTxnOffsets: new Map()
})

export const EMPTY = new Uint8Array(0)
/** A new member's JoinGroup cannot wait longer than this for the rebalance to finish (Kafka's 5 minutes). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60_000

export const offsetKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

export const newGroup = (id: string): Group => ({
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

// ---------------------------------------------------------------------------------------------------------
// Reading the state

export const numAwaitingJoin = (group: Group) => {
  let n = 0
  for (const m of group.members.values()) if (m.awaitingJoin !== undefined) n++
  return n
}

export const hasAllMembersJoined = (group: Group) => group.members.size === numAwaitingJoin(group) && group.pendingJoin.size === 0

export const rebalanceTimeoutMs = (group: Group) => {
  let max = 0
  for (const m of group.members.values()) max = Math.max(max, m.rebalanceTimeoutMs)
  return max
}

/** Protocols every member supports. */
export const candidateProtocols = (group: Group): Set<string> => {
  const counts = new Map<string, number>()
  for (const m of group.members.values()) for (const p of m.protocols) counts.set(p.name, (counts.get(p.name) ?? 0) + 1)
  return new Set([...counts].filter(([, n]) => n === group.members.size).map(([name]) => name))
}

export const supportsProtocols = (group: Group, protocolType: string, protocols: ReadonlyArray<Protocol>) => {
  if (group.state === "Empty") return protocolType !== "" && protocols.length > 0
  if (group.protocolType !== protocolType) return false
  const candidates = candidateProtocols(group)
  return protocols.some((p) => candidates.has(p.name))
}

/** Each member votes for its first preferred protocol among those all support; the most votes wins. */
export const selectProtocol = (group: Group): string => {
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

export const sameProtocols = (a: ReadonlyArray<Protocol>, b: ReadonlyArray<Protocol>) =>
  a.length === b.length &&
  a.every((p, i) => p.name === b[i]!.name && p.metadata.length === b[i]!.metadata.length && p.metadata.every((x, j) => x === b[i]!.metadata[j]))

export const metadataFor = (member: Member, protocolName: string | null) => member.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY

export const currentMembers = (group: Group) =>
  [...group.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: metadataFor(m, group.protocolName) }))

/** The member the request names, or why it cannot be: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID. */
export const validateMember = (group: Group, member: MemberRef): GroupError | undefined => {
  if (member.groupInstanceId !== null) {
    const existing = group.staticMembers.get(member.groupInstanceId)
    if (existing === undefined) return new UnknownMemberId({})
    if (existing !== member.memberId) return new FencedInstanceId({})
  }
  return group.members.has(member.memberId) ? undefined : new UnknownMemberId({})
}

export const currentGeneration = (group: Group, memberId: string, withMembers: boolean, skipAssignment = false): JoinResult => ({
  generationId: group.generationId,
  protocolType: group.protocolType,
  protocolName: group.protocolName,
  leader: group.leaderId ?? "",
  memberId,
  skipAssignment,
  members: withMembers ? currentMembers(group) : []
})

/** Whether an open transaction has committed an offset for the partition (OffsetFetch's `require_stable`). */
export const hasPendingOffset = (s: Groups, groupId: string, topic: string, partition: number): boolean => {
  for (const byGroup of s.pendingTxnOffsets.values()) if (byGroup.get(groupId)?.has(offsetKey(topic, partition)) === true) return true
  return false
}

/**
 * The committed offsets of the named partitions (never committed: undefined), or of every partition when null;
 * `pending` when an open transaction has committed one for it too.
 */
export const committed = (
  s: Groups,
  groupId: string,
  partitions: ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<number> }> | null
) => {
  const offsets = s.groups.get(groupId)?.offsets ?? new Map<string, StoredOffset>()
  const entry = (topic: string, partition: number, committed: CommittedOffset | undefined) => ({
    topic,
    partition,
    committed,
    pending: s.pendingTxnOffsets.size > 0 && hasPendingOffset(s, groupId, topic, partition)
  })
  if (partitions === null) {
    return [...offsets.values()]
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
      .map((o) => entry(o.topic, o.partition, o))
  }
  return partitions.flatMap((t) => t.partitions.map((partition) => entry(t.topic, partition, offsets.get(offsetKey(t.topic, partition)))))
}

/** Takes a committed offset (read back, or just written) unless a later record already holds one. */
const keep = (group: Group, o: StoredOffset) => {
  const key = offsetKey(o.topic, o.partition)
  const existing = group.offsets.get(key)
  if (existing === undefined || o.recordOffset > existing.recordOffset) group.offsets.set(key, o)
}

/**
 * A tombstone for the partition's offset, at `recordOffset` in the offsets log, as Kafka replays one: the
 * committed offset written before it goes, and so do the offsets open transactions committed before it.
 */
export const dropOffset = (s: Groups, groupId: string, topic: string, partition: number, recordOffset: number): void => {
  const key = offsetKey(topic, partition)
  const group = s.groups.get(groupId)
  const existing = group?.offsets.get(key)
  if (existing !== undefined && existing.recordOffset < recordOffset) group!.offsets.delete(key)
  for (const byGroup of s.pendingTxnOffsets.values()) {
    const pending = byGroup.get(groupId)
    const o = pending?.get(key)
    if (o === undefined || o.recordOffset >= recordOffset) continue
    pending!.delete(key)
    if (pending!.size === 0) byGroup.delete(groupId)
  }
}

/** A committed offset read back from the offsets log (null: its tombstone). */
export const replayOffset = (s: Groups, groupId: string, topic: string, partition: number, value: CommittedOffset | null, recordOffset: number) => {
  if (value === null) {
    dropOffset(s, groupId, topic, partition, recordOffset)
    return
  }
  let group = s.groups.get(groupId)
  if (group === undefined) s.groups.set(groupId, (group = newGroup(groupId)))
  keep(group, { topic, partition, ...value, recordOffset })
}

/**
 * The group handed to another coordinator: its members and rebalance go (they join there), its offsets stay
 * (the log goes on being followed); answers the tickets of the requests its members had parked.
 */
export const unload = (s: Groups, groupId: string): Array<Ticket> => {
  const group = s.groups.get(groupId)
  if (group === undefined) return []
  const tickets: Array<Ticket> = []
  for (const m of group.members.values()) {
    if (m.awaitingJoin !== undefined) tickets.push(m.awaitingJoin)
    if (m.awaitingSync !== undefined) tickets.push(m.awaitingSync)
  }
  s.groups.set(groupId, { ...newGroup(groupId), offsets: group.offsets })
  return tickets
}

/** After a replay: groups that are left with no offsets and no pending ones are not kept. */
export const replayed = (s: Groups): void => {
  const pendingGroups = new Set<string>()
  for (const byGroup of s.pendingTxnOffsets.values()) for (const id of byGroup.keys()) pendingGroups.add(id)
  for (const [id, group] of s.groups) if (group.offsets.size === 0 && !pendingGroups.has(id)) s.groups.delete(id)
}

// --- Transactional offset commits

/**
 * The group a TxnOffsetCommit may commit to (Kafka's validateTransactionalOffsetCommit): a group that does not
 * exist is created when the commit names no generation (-1), a member of a group must be current, and unlike
 * plain commits a rebalance does not stop them.
 */
export const admitTxnCommit = (s: Groups, groupId: string, generationId: number, ref: MemberRef): Group | GroupError => {
  if (groupId === "") return new InvalidGroupId({})
  let group = s.groups.get(groupId)
  if (group === undefined) {
    if (generationId >= 0) return new IllegalGeneration({ detail: `group ${groupId} does not exist` })
    s.groups.set(groupId, (group = newGroup(groupId)))
    return group
  }
  if (group.state === "Dead") return new CoordinatorNotAvailable({})
  if (generationId < 0 && group.state === "Empty") return group
  if (generationId >= 0 || ref.memberId !== "" || ref.groupInstanceId !== null) {
    const invalid = validateMember(group, ref)
    if (invalid !== undefined) return invalid
    if (generationId !== group.generationId) return new IllegalGeneration({})
  }
  return group
}

/** Offsets a transaction committed (written to the offsets log): pending until the transaction ends. */
export const addPendingOffsets = (s: Groups, producerId: number, groupId: string, offsets: ReadonlyArray<StoredOffset>): void => {
  let byGroup = s.pendingTxnOffsets.get(producerId)
  if (byGroup === undefined) s.pendingTxnOffsets.set(producerId, (byGroup = new Map()))
  let pending = byGroup.get(groupId)
  if (pending === undefined) byGroup.set(groupId, (pending = new Map()))
  for (const o of offsets) pending.set(offsetKey(o.topic, o.partition), o)
}

/** The producer's transaction ended (its marker is in the offsets log): its offsets are committed, or dropped. */
export const completePendingOffsets = (s: Groups, producerId: number, commit: boolean): number => {
  const byGroup = s.pendingTxnOffsets.get(producerId)
  if (byGroup === undefined) return 0
  s.pendingTxnOffsets.delete(producerId)
  let n = 0
  if (!commit) return n
  for (const [groupId, pending] of byGroup) {
    let group = s.groups.get(groupId)
    if (group === undefined) s.groups.set(groupId, (group = newGroup(groupId)))
    for (const o of pending.values()) {
      keep(group, o)
      n++
    }
  }
  return n
}

// --- Listing, describing, deleting

export const list = (s: Groups): Array<GroupListing> =>
  [...s.groups.values()].filter((g) => g.state !== "Dead").map((g) => ({ groupId: g.id, protocolType: g.protocolType ?? "", state: g.state }))

export const describe = (s: Groups, groupId: string): GroupDescription => {
  const group = s.groups.get(groupId)
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
      metadata: stable ? metadataFor(m, group.protocolName) : EMPTY,
      assignment: stable ? m.assignment : EMPTY
    }))
  }
}

export const transition = (group: Group, state: GroupState) => {
  group.previousState = group.state
  group.state = state
}

/** The group, if it may be deleted (no members); else why not. */
export const deletable = (s: Groups, groupId: string): Group | GroupIdNotFound | NonEmptyGroup => {
  const group = s.groups.get(groupId)
  if (group === undefined || group.state === "Dead") return new GroupIdNotFound({})
  if (group.members.size > 0 || group.pendingJoin.size > 0) return new NonEmptyGroup({})
  return group
}

/** Deletes the group once its offsets' tombstones are written (a member may have joined meanwhile: it stays). */
export const deleted = (s: Groups, group: Group): void => {
  group.offsets.clear()
  if (group.members.size === 0) {
    transition(group, "Dead")
    s.groups.delete(group.id)
  }
}

// --- Deleting offsets (OffsetDelete)

/**
 * The topics a consumer group's members subscribe to, read from their metadata for the group's protocol as
 * Kafka's ClassicGroup.computeSubscribedTopics reads it; undefined when that is not known (no protocol chosen
 * yet, metadata that is not a consumer subscription), which counts as subscribed to every topic.
 */
export const subscribedTopics = (group: Group): ReadonlySet<string> | undefined => {
  if (group.protocolType !== "consumer") return undefined
  const topics = new Set<string>()
  if (group.members.size === 0) return topics
  if (group.protocolName === null) return undefined
  for (const m of group.members.values()) {
    const named = subscriptionTopics(metadataFor(m, group.protocolName))
    if (named === undefined) return undefined
    for (const t of named) topics.add(t)
  }
  return topics
}

/**
 * Whether OffsetDelete may delete the partitions' offsets (Kafka's validateOffsetDelete and
 * isSubscribedToTopic): the group, and per partition why not. An empty group's offsets all may go; a consumer
 * group with members keeps those of the topics they subscribe to (GROUP_SUBSCRIBED_TO_TOPIC); a group of
 * another protocol with members keeps all (NON_EMPTY_GROUP).
 */
export const offsetDeletion = (
  s: Groups,
  groupId: string,
  partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>
): { readonly group: Group; readonly refused: ReadonlyArray<GroupSubscribedToTopic | undefined> } | InvalidGroupId | GroupIdNotFound | NonEmptyGroup => {
  if (groupId === "") return new InvalidGroupId({})
  const group = s.groups.get(groupId)
  if (group === undefined || group.state === "Dead") return new GroupIdNotFound({})
  if (group.state === "Empty") return { group, refused: partitions.map(() => undefined) }
  if (group.protocolType !== "consumer") return new NonEmptyGroup({})
  const subscribed = subscribedTopics(group)
  return {
    group,
    refused: partitions.map((p) => (subscribed === undefined || subscribed.has(p.topic) ? new GroupSubscribedToTopic({ topic: p.topic }) : undefined))
  }
}

/** Whether the group holds (or an open transaction holds for it) an offset for the partition. */
export const hasOffset = (s: Groups, group: Group, topic: string, partition: number): boolean =>
  group.offsets.has(offsetKey(topic, partition)) || (s.pendingTxnOffsets.size > 0 && hasPendingOffset(s, group.id, topic, partition))
