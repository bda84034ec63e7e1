// The next-generation consumer group protocol (KIP-848) as a pure state machine, as Apache Kafka's group
// coordinator runs groups of type `consumer`. Members join, stay and leave by ConsumerGroupHeartbeat alone; the
// coordinator computes the assignment itself (the `uniform` and `range` assignors below).
//
// Three epochs: the group epoch grows with every change of the members or of what they subscribe to (a member
// joins or goes, a subscription changes, a subscribed topic is created, grows or is deleted); the target
// assignment is recomputed when the group epoch passes the assignment epoch; each member's epoch reaches the
// assignment epoch when the member has reconciled towards its target, as Kafka's CurrentAssignmentBuilder does:
// a member that must give partitions up keeps its epoch and stays UNREVOKED_PARTITIONS until a heartbeat shows it
// no longer owns them; a member whose new partitions another member still owns gets the free ones and stays
// UNRELEASED_PARTITIONS until they are released. So no partition is ever owned by two members at once.
//
// Every input (a heartbeat, a timer firing) changes the plain state and answers what to do as data: timers to
// start or stop (by key), lines to log, and the records to append to `__consumer_offsets` (Kafka's
// ConsumerGroup* records, encoded in protocol/GroupRecords.ts), which `replay` reads back at start.
import {
  ConsumerInvalidRequest,
  FencedMemberEpoch,
  type GroupError,
  GroupIdNotFound,
  GroupMaxSizeReached,
  InvalidGroupId,
  InvalidRegularExpression,
  StaleMemberEpoch,
  UnknownMemberId,
  UnreleasedInstanceId,
  UnsupportedAssignor
} from "../Errors.ts"

// ---------------------------------------------------------------------------------------------------------
// State

/** topic id → partitions, ascending. */
export type Assignment = ReadonlyMap<string, ReadonlyArray<number>>

/** Kafka's MemberState codes (as its ConsumerGroupCurrentMemberAssignmentValue stores them). */
export const MemberState = { STABLE: 0, UNREVOKED_PARTITIONS: 1, UNRELEASED_PARTITIONS: 2, UNKNOWN: 127 } as const
export type MemberState = (typeof MemberState)[keyof typeof MemberState]

/** A member's epoch after a static member's temporary leave (ConsumerGroupHeartbeat epoch -2). */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2
export const LEAVE_GROUP_MEMBER_EPOCH = -1

export interface ConsumerMember {
  readonly memberId: string
  instanceId: string | null
  rackId: string | null
  clientId: string
  clientHost: string
  subscribedTopicNames: ReadonlyArray<string>
  subscribedTopicRegex: string | null
  serverAssignor: string | null
  rebalanceTimeoutMs: number
  memberEpoch: number
  previousMemberEpoch: number
  state: MemberState
  assigned: Assignment
  pendingRevocation: Assignment
}

export interface ConsumerGroup {
  readonly id: string
  groupEpoch: number
  assignmentEpoch: number
  /** A hash of the subscribed topics' ids and partition counts when the group epoch was last set. */
  metadataHash: number
  readonly members: Map<string, ConsumerMember>
  /** member id → its partitions in the target assignment of `assignmentEpoch`. */
  readonly target: Map<string, Assignment>
  /** instance id → member id. */
  readonly staticMembers: Map<string, string>
}

export type ConsumerGroupState = "Empty" | "Assigning" | "Reconciling" | "Stable"

export interface ConsumerGroupsConfig {
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly maxSize: number
  /** By name; the first is the default. */
  readonly assignors: ReadonlyArray<string>
}

export interface ConsumerGroups {
  readonly groups: Map<string, ConsumerGroup>
  readonly config: ConsumerGroupsConfig
  readonly newMemberId: () => string
}

export const make = (config: ConsumerGroupsConfig, newMemberId: () => string): ConsumerGroups => ({
  groups: new Map(),
  config,
  newMemberId
})

/** What the coordinator knows of the topics: name → id and partition count. */
export interface TopicsView {
  readonly byName: ReadonlyMap<string, { readonly id: string; readonly partitions: number }>
  readonly byId: ReadonlyMap<string, { readonly name: string; readonly partitions: number }>
}

export const newGroup = (id: string): ConsumerGroup => ({
  id,
  groupEpoch: 0,
  assignmentEpoch: 0,
  metadataHash: 0,
  members: new Map(),
  target: new Map(),
  staticMembers: new Map()
})

const EMPTY: Assignment = new Map()

export const groupState = (group: ConsumerGroup): ConsumerGroupState => {
  if (group.members.size === 0) return "Empty"
  if (group.groupEpoch > group.assignmentEpoch) return "Assigning"
  for (const m of group.members.values()) {
    if (m.memberEpoch !== group.assignmentEpoch || m.state !== MemberState.STABLE) return "Reconciling"
  }
  return "Stable"
}

// ---------------------------------------------------------------------------------------------------------
// Commands and records

export type Timer =
  | { readonly _tag: "ConsumerSession"; readonly groupId: string; readonly memberId: string }
  | { readonly _tag: "ConsumerRebalance"; readonly groupId: string; readonly memberId: string; readonly memberEpoch: number }

/** The records Kafka writes for a consumer group, as data (null parts: tombstones). */
export type ConsumerRecord =
  | { readonly _tag: "GroupMetadata"; readonly groupId: string; readonly value: { readonly epoch: number; readonly metadataHash: number } | null }
  | { readonly _tag: "MemberMetadata"; readonly groupId: string; readonly memberId: string; readonly value: MemberMetadata | null }
  | { readonly _tag: "TargetMember"; readonly groupId: string; readonly memberId: string; readonly value: Assignment | null }
  | { readonly _tag: "TargetMetadata"; readonly groupId: string; readonly value: { readonly assignmentEpoch: number } | null }
  | { readonly _tag: "CurrentAssignment"; readonly groupId: string; readonly memberId: string; readonly value: CurrentAssignment | null }

export interface MemberMetadata {
  readonly instanceId: string | null
  readonly rackId: string | null
  readonly clientId: string
  readonly clientHost: string
  readonly subscribedTopicNames: ReadonlyArray<string>
  readonly subscribedTopicRegex: string | null
  readonly rebalanceTimeoutMs: number
  readonly serverAssignor: string | null
}

export interface CurrentAssignment {
  readonly memberEpoch: number
  readonly previousMemberEpoch: number
  readonly state: number
  readonly assigned: Assignment
  readonly pendingRevocation: Assignment
}

export type Command =
  | { readonly _tag: "Start"; readonly key: string; readonly delayMs: number; readonly timer: Timer }
  | { readonly _tag: "Stop"; readonly key: string }
  | { readonly _tag: "Log"; readonly message: string }
  | { readonly _tag: "Write"; readonly record: ConsumerRecord }

export interface Outcome<A> {
  readonly result: A
  readonly commands: ReadonlyArray<Command>
}

class Step {
  readonly out: Array<Command> = []
  later(key: string, delayMs: number, timer: Timer) {
    this.out.push({ _tag: "Start", key, delayMs, timer })
  }
  cancel(key: string) {
    this.out.push({ _tag: "Stop", key })
  }
  log(message: string) {
    this.out.push({ _tag: "Log", message })
  }
  write(record: ConsumerRecord) {
    this.out.push({ _tag: "Write", record })
  }
}

const sessionKey = (groupId: string, memberId: string) => `consumer-session:${groupId}:${memberId}`
const rebalanceKey = (groupId: string, memberId: string) => `consumer-rebalance:${groupId}:${memberId}`

const metadataOf = (m: ConsumerMember): MemberMetadata => ({
  instanceId: m.instanceId,
  rackId: m.rackId,
  clientId: m.clientId,
  clientHost: m.clientHost,
  subscribedTopicNames: m.subscribedTopicNames,
  subscribedTopicRegex: m.subscribedTopicRegex,
  rebalanceTimeoutMs: m.rebalanceTimeoutMs,
  serverAssignor: m.serverAssignor
})

const currentOf = (m: ConsumerMember): CurrentAssignment => ({
  memberEpoch: m.memberEpoch,
  previousMemberEpoch: m.previousMemberEpoch,
  state: m.state,
  assigned: m.assigned,
  pendingRevocation: m.pendingRevocation
})

// ---------------------------------------------------------------------------------------------------------
// Assignments as values

const key = (topicId: string, partition: number) => `${topicId}:${partition}`

const toList = (a: Assignment): Array<[string, number]> => {
  const out: Array<[string, number]> = []
  for (const [t, ps] of a) for (const p of ps) out.push([t, p])
  return out
}

const fromList = (list: Iterable<readonly [string, number]>): Assignment => {
  const m = new Map<string, Array<number>>()
  for (const [t, p] of list) {
    const ps = m.get(t)
    if (ps === undefined) m.set(t, [p])
    else ps.push(p)
  }
  for (const ps of m.values()) ps.sort((a, b) => a - b)
  return new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

const has = (a: Assignment, topicId: string, partition: number) => a.get(topicId)?.includes(partition) ?? false

export const sameAssignment = (a: Assignment, b: Assignment): boolean => {
  const x = toList(a)
  const y = toList(b)
  if (x.length !== y.length) return false
  return x.every(([t, p]) => has(b, t, p))
}

export const assignmentSize = (a: Assignment): number => {
  let n = 0
  for (const ps of a.values()) n += ps.length
  return n
}

// ---------------------------------------------------------------------------------------------------------
// Subscriptions

const regexCache = new Map<string, RegExp | undefined>()

/**
 * A subscription regex (Java / RE2 syntax) as a JavaScript RegExp matching whole topic names, or undefined when
 * it does not compile. The common subset (classes, groups, alternation, quantifiers) reads the same; a leading
 * `(?i)` is taken as the `i` flag and Java's `\Q...\E` as a literal.
 */
export const compileRegex = (source: string): RegExp | undefined => {
  if (regexCache.has(source)) return regexCache.get(source)
  // Java's \Q...\E quotes literally.
  let body = source.replace(/\\Q([\s\S]*?)(?:\\E|$)/g, (_, quoted: string) => quoted.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
  let flags = ""
  if (body.startsWith("(?i)")) {
    body = body.slice(4)
    flags = "i"
  }
  let re: RegExp | undefined
  try {
    re = new RegExp(`^(?:${body})$`, flags)
  } catch {
    re = undefined
  }
  regexCache.set(source, re)
  return re
}

/** The names of the existing topics a member subscribes to (internal topics never match a regex). */
export const subscribedTopics = (m: ConsumerMember, topics: TopicsView): Set<string> => {
  const out = new Set<string>()
  for (const name of m.subscribedTopicNames) if (topics.byName.has(name)) out.add(name)
  if (m.subscribedTopicRegex !== null && m.subscribedTopicRegex !== "") {
    const re = compileRegex(m.subscribedTopicRegex)
    if (re !== undefined) for (const name of topics.byName.keys()) if (!name.startsWith("__") && re.test(name)) out.add(name)
  }
  return out
}

/** A hash (53 bits, FNV-1a) of the ids and partition counts of the topics the group's members subscribe to. */
export const metadataHash = (group: ConsumerGroup, topics: TopicsView): number => {
  const names = new Set<string>()
  for (const m of group.members.values()) for (const t of subscribedTopics(m, topics)) names.add(t)
  const text = [...names].sort().map((n) => `${n}/${topics.byName.get(n)!.id}/${topics.byName.get(n)!.partitions}`).join(",")
  let h = 0xcbf29ce484222325n
  for (let i = 0; i < text.length; i++) h = BigInt.asUintN(64, (h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n)
  return Number(h & 0x1fffffffffffffn)
}

// ---------------------------------------------------------------------------------------------------------
// Assignors

export interface AssignorMember {
  readonly memberId: string
  /** Topic ids. */
  readonly topics: ReadonlySet<string>
}

export type Assignor = (
  members: ReadonlyArray<AssignorMember>,
  /** topic id → partition count */
  partitions: ReadonlyMap<string, number>,
  previous: ReadonlyMap<string, Assignment>
) => Map<string, Assignment>

/**
 * `uniform`: every member gets as many partitions as the others, within one, across the topics it subscribes to,
 * keeping as many of its previous partitions as balance allows (sticky). Kafka's UniformAssignor aims at the
 * same: balance first, then stickiness.
 */
export const uniformAssignor: Assignor = (members, partitions, previous) => {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
  const owner = new Map<string, string>()
  const owned = new Map<string, Array<[string, number]>>(sorted.map((m) => [m.memberId, []]))
  const subscribers = new Map<string, Array<AssignorMember>>()
  for (const m of sorted) for (const t of m.topics) if (partitions.has(t)) subscribers.set(t, [...(subscribers.get(t) ?? []), m])
  let total = 0
  for (const t of subscribers.keys()) total += partitions.get(t)!
  // Homogeneous subscriptions have exact quotas; mixed ones are balanced by moves below.
  const quota = sorted.length === 0 ? 0 : Math.ceil(total / sorted.length)
  const give = (memberId: string, t: string, p: number) => {
    owner.set(key(t, p), memberId)
    owned.get(memberId)!.push([t, p])
  }
  // Sticky pass: each member keeps its previous partitions that still exist and it still subscribes to, up to
  // the quota; then every partition left goes to the subscriber that has the fewest.
  for (const m of sorted) {
    for (const [t, p] of toList(previous.get(m.memberId) ?? EMPTY)) {
      if (!m.topics.has(t) || p >= (partitions.get(t) ?? 0) || owner.has(key(t, p))) continue
      if (owned.get(m.memberId)!.length >= quota) break
      give(m.memberId, t, p)
    }
  }
  for (const [t, subs] of [...subscribers.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (let p = 0; p < partitions.get(t)!; p++) {
      if (owner.has(key(t, p))) continue
      let best = subs[0]!
      for (const s of subs) if (owned.get(s.memberId)!.length < owned.get(best.memberId)!.length) best = s
      give(best.memberId, t, p)
    }
  }
  // Balance: move a partition from a member with two or more than another subscriber of its topic, until none is.
  for (let moved = true; moved;) {
    moved = false
    for (const from of sorted) {
      const list = owned.get(from.memberId)!
      for (let i = list.length - 1; i >= 0 && !moved; i--) {
        const [t, p] = list[i]!
        for (const to of subscribers.get(t)!) {
          if (owned.get(to.memberId)!.length + 1 < list.length) {
            list.splice(i, 1)
            give(to.memberId, t, p)
            moved = true
            break
          }
        }
      }
    }
  }
  return new Map(sorted.map((m) => [m.memberId, fromList(owned.get(m.memberId)!)]))
}

/**
 * `range`: each topic on its own, its partitions cut in contiguous ranges over its subscribers in member id
 * order, the first ones taking one more when they do not divide evenly (Kafka's RangeAssignor: co-partitioned
 * topics land together).
 */
export const rangeAssignor: Assignor = (members, partitions) => {
  const out = new Map<string, Array<[string, number]>>(members.map((m) => [m.memberId, []]))
  for (const [t, n] of partitions) {
    const subs = members.filter((m) => m.topics.has(t)).map((m) => m.memberId).sort()
    if (subs.length === 0) continue
    const per = Math.floor(n / subs.length)
    const extra = n % subs.length
    let p = 0
    subs.forEach((id, i) => {
      const count = per + (i < extra ? 1 : 0)
      for (let k = 0; k < count; k++) out.get(id)!.push([t, p++])
    })
  }
  return new Map([...out].map(([id, list]) => [id, fromList(list)]))
}

export const ASSIGNORS: Readonly<Record<string, Assignor>> = { uniform: uniformAssignor, range: rangeAssignor }

/** The assignor the group uses: the one most members name, else the broker's default (Kafka's rule). */
const groupAssignor = (s: ConsumerGroups, group: ConsumerGroup): string => {
  const votes = new Map<string, number>()
  for (const m of group.members.values()) if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1)
  let best: string | undefined
  for (const [name, n] of votes) if (best === undefined || n > votes.get(best)!) best = name
  return best ?? s.config.assignors[0]!
}

const computeTarget = (s: ConsumerGroups, step: Step, group: ConsumerGroup, topics: TopicsView) => {
  const name = groupAssignor(s, group)
  const partitions = new Map<string, number>()
  const members = [...group.members.values()].map((m): AssignorMember => {
    const ids = new Set<string>()
    for (const t of subscribedTopics(m, topics)) {
      const info = topics.byName.get(t)!
      ids.add(info.id)
      partitions.set(info.id, info.partitions)
    }
    return { memberId: m.memberId, topics: ids }
  })
  const target = ASSIGNORS[name]!(members, partitions, group.target)
  for (const [memberId, a] of target) {
    const before = group.target.get(memberId)
    if (before === undefined || !sameAssignment(before, a)) step.write({ _tag: "TargetMember", groupId: group.id, memberId, value: a })
    group.target.set(memberId, a)
  }
  for (const memberId of [...group.target.keys()]) if (!target.has(memberId)) group.target.delete(memberId)
  group.assignmentEpoch = group.groupEpoch
  step.write({ _tag: "TargetMetadata", groupId: group.id, value: { assignmentEpoch: group.assignmentEpoch } })
  step.log(`consumer group ${group.id}: target assignment of epoch ${group.groupEpoch} by the ${name} assignor`)
}

// ---------------------------------------------------------------------------------------------------------
// Reconciliation (Kafka's CurrentAssignmentBuilder)

/** Whether another member owns the partition: it has it assigned or is still revoking it. */
const ownedByOther = (group: ConsumerGroup, memberId: string, topicId: string, partition: number) => {
  for (const m of group.members.values()) {
    if (m.memberId === memberId) continue
    if (has(m.assigned, topicId, partition) || has(m.pendingRevocation, topicId, partition)) return true
  }
  return false
}

/** Moves the member one step towards its target assignment. */
const computeNext = (group: ConsumerGroup, member: ConsumerMember) => {
  const target = group.target.get(member.memberId) ?? EMPTY
  const current = toList(member.assigned)
  const keep = current.filter(([t, p]) => has(target, t, p))
  const revoke = current.filter(([t, p]) => !has(target, t, p))
  if (revoke.length > 0) {
    // Partitions to give up first: the member keeps its epoch until it acknowledges having released them.
    member.assigned = fromList(keep)
    member.pendingRevocation = fromList(revoke)
    member.state = MemberState.UNREVOKED_PARTITIONS
    return
  }
  const adding = toList(target).filter(([t, p]) => !has(member.assigned, t, p))
  const free = adding.filter(([t, p]) => !ownedByOther(group, member.memberId, t, p))
  member.assigned = fromList([...keep, ...free])
  member.pendingRevocation = EMPTY
  if (member.memberEpoch !== group.assignmentEpoch) {
    member.previousMemberEpoch = member.memberEpoch
    member.memberEpoch = group.assignmentEpoch
  }
  member.state = free.length < adding.length ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE
}

/** `owned`: the partitions the member's heartbeat says it owns, null when it did not say. */
const reconcile = (group: ConsumerGroup, member: ConsumerMember, owned: Assignment | null) => {
  switch (member.state) {
    case MemberState.UNREVOKED_PARTITIONS: {
      const released = owned !== null && !toList(member.pendingRevocation).some(([t, p]) => has(owned, t, p))
      if (released) computeNext(group, member)
      return
    }
    case MemberState.UNRELEASED_PARTITIONS:
      computeNext(group, member)
      return
    default:
      if (member.memberEpoch !== group.assignmentEpoch || member.state === MemberState.UNKNOWN) computeNext(group, member)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Heartbeats

export interface HeartbeatRequest {
  readonly groupId: string
  readonly memberId: string
  readonly memberEpoch: number
  readonly instanceId: string | null
  readonly rackId: string | null
  readonly rebalanceTimeoutMs: number
  readonly subscribedTopicNames: ReadonlyArray<string> | null
  readonly subscribedTopicRegex: string | null
  readonly serverAssignor: string | null
  /** Topic ids and partitions the member owns; null when unchanged since its last heartbeat. */
  readonly topicPartitions: ReadonlyArray<{ readonly topicId: string; readonly partitions: ReadonlyArray<number> }> | null
  readonly clientId: string
  readonly clientHost: string
  /** ConsumerGroupHeartbeat v1+: the member id is the client's own (KIP-1082). */
  readonly apiVersion: number
}

export interface HeartbeatResult {
  readonly memberId: string
  readonly memberEpoch: number
  readonly heartbeatIntervalMs: number
  /** The member's partitions, when they changed (or it joined); null otherwise. */
  readonly assignment: Assignment | null
}

/** How a heartbeat's group id relates to classic groups: a non-empty classic group of that id refuses it. */
export type ClassicCheck = (groupId: string) => "none" | "empty" | "busy"

const validate = (s: ConsumerGroups, r: HeartbeatRequest): GroupError | undefined => {
  if (r.groupId === "") return new InvalidGroupId({ detail: "GroupId can't be empty" })
  if (r.instanceId === "") return new ConsumerInvalidRequest({ detail: "InstanceId can't be empty" })
  if (r.rackId === "") return new ConsumerInvalidRequest({ detail: "RackId can't be empty" })
  if (r.memberEpoch > 0 || r.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) {
    if (r.memberId === "") return new ConsumerInvalidRequest({ detail: "MemberId can't be empty" })
  } else if (r.memberEpoch === 0) {
    if (r.apiVersion >= 1 && r.memberId === "") return new ConsumerInvalidRequest({ detail: "MemberId can't be empty" })
    if (r.rebalanceTimeoutMs === -1) return new ConsumerInvalidRequest({ detail: "RebalanceTimeoutMs must be provided in first request" })
    if (r.topicPartitions === null || r.topicPartitions.length > 0) {
      return new ConsumerInvalidRequest({ detail: "TopicPartitions must be empty when (re-)joining" })
    }
    if (r.subscribedTopicNames === null && r.subscribedTopicRegex === null) {
      return new ConsumerInvalidRequest({ detail: "SubscribedTopicNames or SubscribedTopicRegex must be set in first request" })
    }
  } else if (r.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    if (r.instanceId === null) return new ConsumerInvalidRequest({ detail: "InstanceId can't be null" })
  } else {
    return new ConsumerInvalidRequest({ detail: `MemberEpoch is invalid: ${r.memberEpoch}` })
  }
  if (r.serverAssignor !== null && !s.config.assignors.includes(r.serverAssignor)) {
    return new UnsupportedAssignor({ detail: `ServerAssignor ${r.serverAssignor} is not supported (${s.config.assignors.join(", ")})` })
  }
  if (r.subscribedTopicRegex !== null && r.subscribedTopicRegex !== "" && compileRegex(r.subscribedTopicRegex) === undefined) {
    return new InvalidRegularExpression({ detail: `SubscribedTopicRegex ${r.subscribedTopicRegex} is not a valid regular expression` })
  }
  return undefined
}

const newMember = (memberId: string, r: HeartbeatRequest): ConsumerMember => ({
  memberId,
  instanceId: r.instanceId,
  rackId: r.rackId,
  clientId: r.clientId,
  clientHost: r.clientHost,
  subscribedTopicNames: [],
  subscribedTopicRegex: null,
  serverAssignor: null,
  rebalanceTimeoutMs: r.rebalanceTimeoutMs,
  memberEpoch: 0,
  previousMemberEpoch: 0,
  state: MemberState.STABLE,
  assigned: EMPTY,
  pendingRevocation: EMPTY
})

const bumpEpoch = (step: Step, group: ConsumerGroup, topics: TopicsView) => {
  group.groupEpoch++
  group.metadataHash = metadataHash(group, topics)
  step.write({ _tag: "GroupMetadata", groupId: group.id, value: { epoch: group.groupEpoch, metadataHash: group.metadataHash } })
}

/** Removes a member: its records are tombstoned and the group epoch bumped, so the others take its partitions. */
const removeMember = (step: Step, group: ConsumerGroup, member: ConsumerMember, topics: TopicsView, why: string) => {
  group.members.delete(member.memberId)
  group.target.delete(member.memberId)
  if (member.instanceId !== null && group.staticMembers.get(member.instanceId) === member.memberId) group.staticMembers.delete(member.instanceId)
  step.cancel(sessionKey(group.id, member.memberId))
  step.cancel(rebalanceKey(group.id, member.memberId))
  step.write({ _tag: "CurrentAssignment", groupId: group.id, memberId: member.memberId, value: null })
  step.write({ _tag: "TargetMember", groupId: group.id, memberId: member.memberId, value: null })
  step.write({ _tag: "MemberMetadata", groupId: group.id, memberId: member.memberId, value: null })
  bumpEpoch(step, group, topics)
  step.log(`consumer group ${group.id}: member ${member.memberId} ${why}; group epoch ${group.groupEpoch}`)
}

const toAssignment = (tps: ReadonlyArray<{ readonly topicId: string; readonly partitions: ReadonlyArray<number> }>): Assignment =>
  fromList(tps.flatMap((tp) => tp.partitions.map((p) => [tp.topicId, p] as const)))

const isSubset = (a: Assignment, b: Assignment) => toList(a).every(([t, p]) => has(b, t, p))

export const heartbeat = (
  s: ConsumerGroups,
  r: HeartbeatRequest,
  topics: TopicsView,
  classic: ClassicCheck
): Outcome<HeartbeatResult | GroupError> => {
  const step = new Step()
  const result = ((): HeartbeatResult | GroupError => {
    const invalid = validate(s, r)
    if (invalid !== undefined) return invalid
    let group = s.groups.get(r.groupId)
    if (group === undefined) {
      const c = classic(r.groupId)
      if (c === "busy") return new GroupIdNotFound({ detail: `Group ${r.groupId} is not a consumer group` })
      if (r.memberEpoch !== 0) return new GroupIdNotFound({ detail: `Consumer group ${r.groupId} not found` })
      group = newGroup(r.groupId)
      s.groups.set(group.id, group)
    }
    const owned = r.topicPartitions === null ? null : toAssignment(r.topicPartitions)

    // Leaving.
    if (r.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || r.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      const memberId = r.instanceId !== null ? group.staticMembers.get(r.instanceId) : r.memberId
      const member = memberId === undefined ? undefined : group.members.get(memberId)
      if (member === undefined || (r.memberId !== "" && member.memberId !== r.memberId)) {
        return r.instanceId !== null && member !== undefined
          ? new UnreleasedInstanceId({ detail: `${r.instanceId} belongs to another member` })
          : new UnknownMemberId({ memberId: r.memberId })
      }
      if (r.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
        // A static member away for a restart: it keeps its partitions until its session times out.
        member.previousMemberEpoch = member.memberEpoch
        member.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH
        step.cancel(rebalanceKey(group.id, member.memberId))
        // It has a full session to come back in.
        step.later(sessionKey(group.id, member.memberId), s.config.sessionTimeoutMs, {
          _tag: "ConsumerSession",
          groupId: group.id,
          memberId: member.memberId
        })
        step.write({ _tag: "CurrentAssignment", groupId: group.id, memberId: member.memberId, value: currentOf(member) })
        step.log(`consumer group ${group.id}: static member ${member.instanceId} left for now`)
      } else {
        removeMember(step, group, member, topics, "left")
      }
      return { memberId: member.memberId, memberEpoch: r.memberEpoch, heartbeatIntervalMs: 0, assignment: null }
    }

    // Joining, or the member it names.
    let member: ConsumerMember | undefined
    let joined = false
    let changed = false
    if (r.memberEpoch === 0) {
      const existing = group.members.get(r.memberId)
      if (r.instanceId !== null) {
        const staticId = group.staticMembers.get(r.instanceId)
        const previous = staticId === undefined ? undefined : group.members.get(staticId)
        if (previous !== undefined && previous.memberId !== r.memberId && previous.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          return new UnreleasedInstanceId({ detail: `static member ${r.instanceId} is still in the group` })
        }
        if (previous !== undefined && previous.memberId !== r.memberId) {
          // A static member back from a restart under a new member id: it takes the old one's place, its
          // epoch and assignment.
          member = { ...previous, memberId: r.memberId === "" ? s.newMemberId() : r.memberId }
          group.members.delete(previous.memberId)
          group.members.set(member.memberId, member)
          const target = group.target.get(previous.memberId)
          group.target.delete(previous.memberId)
          if (target !== undefined) group.target.set(member.memberId, target)
          step.cancel(sessionKey(group.id, previous.memberId))
          step.write({ _tag: "CurrentAssignment", groupId: group.id, memberId: previous.memberId, value: null })
          step.write({ _tag: "TargetMember", groupId: group.id, memberId: previous.memberId, value: null })
          step.write({ _tag: "MemberMetadata", groupId: group.id, memberId: previous.memberId, value: null })
          step.write({ _tag: "TargetMember", groupId: group.id, memberId: member.memberId, value: target ?? EMPTY })
          member.memberEpoch = member.previousMemberEpoch
          group.staticMembers.set(r.instanceId, member.memberId)
          step.write({ _tag: "MemberMetadata", groupId: group.id, memberId: member.memberId, value: metadataOf(member) })
          joined = true
        } else if (previous !== undefined && previous.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          member = previous
          member.memberEpoch = member.previousMemberEpoch
          joined = true
        }
      }
      if (member === undefined && existing !== undefined) {
        // Rejoining (after being fenced): it owns nothing now, and is given its target again.
        member = existing
        member.memberEpoch = 0
        member.previousMemberEpoch = 0
        member.assigned = EMPTY
        member.pendingRevocation = EMPTY
        member.state = MemberState.STABLE
        joined = true
      }
      if (member === undefined) {
        if (group.members.size >= s.config.maxSize) {
          return new GroupMaxSizeReached({ detail: `the consumer group has reached its maximum size of ${s.config.maxSize}` })
        }
        member = newMember(r.memberId === "" ? s.newMemberId() : r.memberId, r)
        group.members.set(member.memberId, member)
        if (r.instanceId !== null) group.staticMembers.set(r.instanceId, member.memberId)
        changed = true
        joined = true
        step.log(`consumer group ${group.id}: member ${member.memberId} joined`)
      }
    } else {
      member = group.members.get(r.memberId)
      if (member === undefined) return new UnknownMemberId({ memberId: r.memberId })
      if (r.memberEpoch > member.memberEpoch) {
        return new FencedMemberEpoch({ detail: `the member epoch ${r.memberEpoch} is newer than ${member.memberEpoch}` })
      }
      if (r.memberEpoch < member.memberEpoch) {
        // Allowed only when it missed the response that moved it on, and owns nothing it should not.
        if (r.memberEpoch !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assigned)) {
          return new FencedMemberEpoch({ detail: `the member epoch ${r.memberEpoch} is older than ${member.memberEpoch}` })
        }
      }
    }

    // Its subscription.
    if (r.subscribedTopicNames !== null) {
      const names = [...new Set(r.subscribedTopicNames)].sort()
      if (names.join("\u0000") !== [...member.subscribedTopicNames].join("\u0000") || member.subscribedTopicNames.length !== names.length) {
        member.subscribedTopicNames = names
        changed = true
      }
    }
    if (r.subscribedTopicRegex !== null && r.subscribedTopicRegex !== (member.subscribedTopicRegex ?? "")) {
      member.subscribedTopicRegex = r.subscribedTopicRegex === "" ? null : r.subscribedTopicRegex
      changed = true
    }
    if (r.serverAssignor !== null && r.serverAssignor !== member.serverAssignor) {
      member.serverAssignor = r.serverAssignor
      changed = true
    }
    if (r.rebalanceTimeoutMs !== -1 && r.rebalanceTimeoutMs !== member.rebalanceTimeoutMs) {
      member.rebalanceTimeoutMs = r.rebalanceTimeoutMs
      step.write({ _tag: "MemberMetadata", groupId: group.id, memberId: member.memberId, value: metadataOf(member) })
    }
    if (r.rackId !== null) member.rackId = r.rackId
    member.clientId = r.clientId
    member.clientHost = r.clientHost

    if (changed) {
      step.write({ _tag: "MemberMetadata", groupId: group.id, memberId: member.memberId, value: metadataOf(member) })
      bumpEpoch(step, group, topics)
    } else if (metadataHash(group, topics) !== group.metadataHash) {
      // A subscribed topic was created, deleted or grew.
      bumpEpoch(step, group, topics)
      step.log(`consumer group ${group.id}: subscribed topics changed; group epoch ${group.groupEpoch}`)
    }
    if (group.groupEpoch > group.assignmentEpoch) computeTarget(s, step, group, topics)

    // Partitions of topics that are gone are no longer owned.
    const exists = (a: Assignment) => fromList(toList(a).filter(([t, p]) => p < (topics.byId.get(t)?.partitions ?? 0)))
    const before = currentOf(member)
    member.assigned = exists(member.assigned)
    member.pendingRevocation = exists(member.pendingRevocation)
    reconcile(group, member, owned)
    const after = currentOf(member)
    const moved = before.memberEpoch !== after.memberEpoch || before.state !== after.state ||
      !sameAssignment(before.assigned, after.assigned) || !sameAssignment(before.pendingRevocation, after.pendingRevocation)
    if (moved || joined) step.write({ _tag: "CurrentAssignment", groupId: group.id, memberId: member.memberId, value: after })
    if (member.state === MemberState.UNREVOKED_PARTITIONS) {
      if (before.state !== MemberState.UNREVOKED_PARTITIONS || !sameAssignment(before.pendingRevocation, after.pendingRevocation)) {
        step.later(rebalanceKey(group.id, member.memberId), member.rebalanceTimeoutMs, {
          _tag: "ConsumerRebalance",
          groupId: group.id,
          memberId: member.memberId,
          memberEpoch: member.memberEpoch
        })
      }
    } else if (before.state === MemberState.UNREVOKED_PARTITIONS) {
      step.cancel(rebalanceKey(group.id, member.memberId))
    }
    step.later(sessionKey(group.id, member.memberId), s.config.sessionTimeoutMs, {
      _tag: "ConsumerSession",
      groupId: group.id,
      memberId: member.memberId
    })
    const sendAssignment = r.memberEpoch === 0 || !sameAssignment(before.assigned, after.assigned) ||
      (owned !== null && !sameAssignment(owned, after.assigned))
    return {
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: s.config.heartbeatIntervalMs,
      assignment: sendAssignment ? member.assigned : null
    }
  })()
  return { result, commands: step.out }
}

/** A timer fired: a member whose session ended, or that did not revoke in time, is removed. */
export const fire = (s: ConsumerGroups, timer: Timer, topics: TopicsView): Array<Command> => {
  const step = new Step()
  const group = s.groups.get(timer.groupId)
  const member = group?.members.get(timer.memberId)
  if (group === undefined || member === undefined) return step.out
  if (timer._tag === "ConsumerSession") removeMember(step, group, member, topics, "timed out")
  else if (member.state === MemberState.UNREVOKED_PARTITIONS && member.memberEpoch === timer.memberEpoch) {
    removeMember(step, group, member, topics, "did not revoke its partitions within its rebalance timeout")
  }
  return step.out
}

/** After a restart, every member gets a full session to come back (as Kafka schedules at load). */
export const sessionsAfterLoad = (s: ConsumerGroups, only: (groupId: string) => boolean = () => true): Array<Command> => {
  const step = new Step()
  for (const group of s.groups.values()) {
    if (!only(group.id)) continue
    for (const m of group.members.values()) {
      step.later(sessionKey(group.id, m.memberId), s.config.sessionTimeoutMs, { _tag: "ConsumerSession", groupId: group.id, memberId: m.memberId })
    }
  }
  return step.out
}

// ---------------------------------------------------------------------------------------------------------
// Offsets: commits and fetches checked against member epochs

/**
 * Whether a member may commit offsets with this epoch (OffsetCommit's generationIdOrMemberEpoch): outside the
 * group (epoch < 0, no member id) only while it is empty.
 */
export const validateCommit = (group: ConsumerGroup, memberId: string, memberEpoch: number): GroupError | undefined => {
  if (memberEpoch < 0 && group.members.size === 0) return undefined
  const member = group.members.get(memberId)
  if (member === undefined) return new UnknownMemberId({ memberId: memberId })
  if (memberEpoch > member.memberEpoch) return new FencedMemberEpoch({ detail: `${memberEpoch} is newer than ${member.memberEpoch}` })
  if (memberEpoch < member.memberEpoch) return new StaleMemberEpoch({ detail: `${memberEpoch} is older than ${member.memberEpoch}` })
  return undefined
}

/** OffsetFetch v9+ names the member; epoch -1 (or no member id) reads without a check. */
export const validateFetch = (group: ConsumerGroup, memberId: string | null, memberEpoch: number): GroupError | undefined => {
  if (memberEpoch < 0 || memberId === null || memberId === "") return undefined
  const member = group.members.get(memberId)
  if (member === undefined) return new UnknownMemberId({ memberId: memberId })
  if (memberEpoch !== member.memberEpoch) return new StaleMemberEpoch({ detail: `${memberEpoch} is not ${member.memberEpoch}` })
  return undefined
}

/** Deleting the group: its records are tombstoned. */
export const deleteGroup = (s: ConsumerGroups, group: ConsumerGroup): Array<Command> => {
  const step = new Step()
  step.write({ _tag: "TargetMetadata", groupId: group.id, value: null })
  step.write({ _tag: "GroupMetadata", groupId: group.id, value: null })
  s.groups.delete(group.id)
  return step.out
}

// ---------------------------------------------------------------------------------------------------------
// Replay at start: the records, in log order, rebuild the groups

const replayGroup = (s: ConsumerGroups, groupId: string) => {
  let group = s.groups.get(groupId)
  if (group === undefined) s.groups.set(groupId, (group = newGroup(groupId)))
  return group
}

const replayMember = (group: ConsumerGroup, memberId: string) => {
  let m = group.members.get(memberId)
  if (m === undefined) {
    m = newMember(memberId, {
      groupId: group.id, memberId, memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: -1,
      subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: null,
      clientId: "", clientHost: "", apiVersion: 1
    })
    group.members.set(memberId, m)
  }
  return m
}

export const replay = (s: ConsumerGroups, record: ConsumerRecord): void => {
  switch (record._tag) {
    case "GroupMetadata": {
      if (record.value === null) {
        s.groups.delete(record.groupId)
        return
      }
      const group = replayGroup(s, record.groupId)
      group.groupEpoch = record.value.epoch
      group.metadataHash = record.value.metadataHash
      return
    }
    case "TargetMetadata": {
      const group = s.groups.get(record.groupId)
      if (record.value === null) return
      ;(group ?? replayGroup(s, record.groupId)).assignmentEpoch = record.value.assignmentEpoch
      return
    }
    case "TargetMember": {
      const group = replayGroup(s, record.groupId)
      if (record.value === null) group.target.delete(record.memberId)
      else group.target.set(record.memberId, record.value)
      return
    }
    case "MemberMetadata": {
      const group = replayGroup(s, record.groupId)
      if (record.value === null) {
        const gone = group.members.get(record.memberId)
        group.members.delete(record.memberId)
        if (gone?.instanceId != null && group.staticMembers.get(gone.instanceId) === record.memberId) group.staticMembers.delete(gone.instanceId)
        return
      }
      const m = replayMember(group, record.memberId)
      Object.assign(m, record.value)
      if (m.instanceId !== null) group.staticMembers.set(m.instanceId, m.memberId)
      return
    }
    case "CurrentAssignment": {
      const group = replayGroup(s, record.groupId)
      if (record.value === null) return
      const m = group.members.get(record.memberId)
      if (m === undefined) return
      m.memberEpoch = record.value.memberEpoch
      m.previousMemberEpoch = record.value.previousMemberEpoch
      m.state = record.value.state as MemberState
      m.assigned = record.value.assigned
      m.pendingRevocation = record.value.pendingRevocation
      return
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Describing

export interface ConsumerGroupDescription {
  readonly groupId: string
  readonly state: ConsumerGroupState
  readonly groupEpoch: number
  readonly assignmentEpoch: number
  readonly assignorName: string
  readonly members: ReadonlyArray<{
    readonly member: ConsumerMember
    readonly target: Assignment
  }>
}

export const describe = (s: ConsumerGroups, group: ConsumerGroup): ConsumerGroupDescription => ({
  groupId: group.id,
  state: groupState(group),
  groupEpoch: group.groupEpoch,
  assignmentEpoch: group.assignmentEpoch,
  assignorName: groupAssignor(s, group),
  members: [...group.members.values()].map((member) => ({ member, target: group.target.get(member.memberId) ?? EMPTY }))
})
