// Fault injection and request recording, for the embedded broker in tests. Rules make requests fail the way
// production fails: an error code answered where Kafka puts it, a delay before the request runs, or the connection
// closed instead of an answer (before the request runs, or after it ran: a lost answer). Every request is recorded ({ api, apiVersion, brokerId, clientId, correlationId,
// topics }) and `waitFor` resolves when a matching one has arrived. The connection (services/network) asks this
// service before running a handler, and only when it is in the context: the production broker has none.
//
// Matching: a rule matches on any of api (the message definition's name, "Produce"), topic, partition, clientId and
// brokerId (the node the request was sent to). A rule without `api` matches every API but ApiVersions. A rule
// naming a topic or partition matches the requests that name it. The first matching rule fires and uses up one of
// its `count` (default 1, Infinity allowed).
//
// Where the error goes (`places` below, one entry per API, read from the message definitions): per partition for
// partitioned APIs, per topic, group or resource where Kafka answers per item, top-level otherwise (and when the
// request names no items). Coordinator-level codes (14, 15, 16, 30, 31, 53, 70, 71) go to the highest place the
// response has (the top-level error code when there is one, else the topic or partition entries): that is where
// Kafka answers them. The handler never runs for the items that get the error, so a fault stores nothing and a
// retry is clean. When the rule names a topic or partition, only the items it names get the error and the others
// are served by the handler as usual (a Produce to partitions 0 and 1 with a fault on 0 appends to 1), as a broker
// whose partition 0 moved away would answer; the two answers are merged into one. Where the error goes at the top
// level of the response (it would speak for the whole request), the whole request gets it. Metadata is answered by
// the handler with the error code set on the topics the rule names (clients need its brokers to go on).
import { Context, Deferred, Duration, Effect, Layer, Schema } from "effect"
import { ZERO_UUID } from "../../protocol/Bytes.ts"
import { type Api, defaultValue, type Type, type Versions } from "../../protocol/Message.ts"
import { NoResponse, type Handler, type RequestContext } from "../api/Handler.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"

// ---------------------------------------------------------------------------------------------------------
// Rules and records

export interface FaultMatch {
  /** The API's name as in the message definitions ("Produce", "Fetch", "JoinGroup"); absent: any but ApiVersions. */
  readonly api?: string
  readonly topic?: string
  readonly partition?: number
  readonly clientId?: string
  /** The node id the request was sent to. */
  readonly brokerId?: number
  /** How many matching requests the rule fires on: default 1, Infinity allowed. */
  readonly count?: number
}

export interface InjectRule extends FaultMatch {
  readonly errorCode: number
}

export interface DelayRule extends FaultMatch {
  /** Before the request runs; Infinity: never answered (until the connection closes). */
  readonly ms: number
}

export interface DisconnectRule extends FaultMatch {
  /**
   * "before" (the default): the connection closes before the request runs, nothing is stored. "after": the request
   * runs (a Produce is appended) and the connection closes instead of its answer, the answer lost on the way.
   */
  readonly when?: "before" | "after"
}

export type Fault =
  | { readonly _tag: "Error"; readonly errorCode: number }
  | { readonly _tag: "Delay"; readonly ms: number }
  | { readonly _tag: "Disconnect"; readonly after: boolean }

interface ActiveRule {
  readonly match: FaultMatch
  readonly fault: Fault
  remaining: number
}

export interface RecordedRequest {
  readonly api: string
  readonly apiVersion: number
  readonly brokerId: number
  readonly clientId: string | null
  readonly correlationId: number
  /** The topic names the request names (topic ids resolved), each once. */
  readonly topics: ReadonlyArray<string>
}

/** Which recorded requests: fields that must all be equal (`topic`: among its topics), or a predicate. */
export type RequestFilter =
  | {
    readonly api?: string
    readonly apiVersion?: number
    readonly brokerId?: number
    readonly clientId?: string | null
    readonly topic?: string
  }
  | ((request: RecordedRequest) => boolean)

export const matchesFilter = (filter: RequestFilter | undefined, r: RecordedRequest): boolean => {
  if (filter === undefined) return true
  if (typeof filter === "function") return filter(r)
  return (filter.api === undefined || filter.api === r.api) &&
    (filter.apiVersion === undefined || filter.apiVersion === r.apiVersion) &&
    (filter.brokerId === undefined || filter.brokerId === r.brokerId) &&
    (filter.clientId === undefined || filter.clientId === r.clientId) &&
    (filter.topic === undefined || r.topics.includes(filter.topic))
}

/** One topic/partition a request names (partition undefined: the request names the topic only). */
export interface Leaf {
  readonly topic: string | undefined
  readonly partition: number | undefined
}

/** What rules match against. */
export interface RequestView {
  readonly api: string
  readonly brokerId: number
  readonly clientId: string | null
  readonly leaves: ReadonlyArray<Leaf>
}

const namesItems = (m: FaultMatch) => m.topic !== undefined || m.partition !== undefined

const leafMatches = (m: FaultMatch, leaf: Leaf) =>
  (m.topic === undefined || m.topic === leaf.topic) && (m.partition === undefined || m.partition === leaf.partition)

export const ruleMatches = (m: FaultMatch, r: RequestView): boolean =>
  (m.api === undefined ? r.api !== "ApiVersions" : m.api === r.api) &&
  (m.clientId === undefined || m.clientId === r.clientId) &&
  (m.brokerId === undefined || m.brokerId === r.brokerId) &&
  (!namesItems(m) || r.leaves.some((leaf) => leafMatches(m, leaf)))

/** How many requests are kept: the oldest go first. */
export const MAX_RECORDED = 10_000

/** The pure core: rules in the order they were added, and the requests recorded. */
export class FaultBook {
  private rules: Array<ActiveRule> = []
  private recorded: Array<RecordedRequest> = []

  add(match: FaultMatch, fault: Fault): void {
    const count = match.count ?? 1
    if (!(count > 0)) return
    this.rules.push({ match, fault, remaining: count })
  }

  /** The first rule matching `request`, with one of its count used up; undefined when none matches. */
  take(request: RequestView): ActiveRule | undefined {
    const i = this.rules.findIndex((rule) => ruleMatches(rule.match, request))
    if (i < 0) return undefined
    const rule = this.rules[i]!
    rule.remaining -= 1
    if (rule.remaining <= 0) this.rules.splice(i, 1)
    return rule
  }

  get pending(): number {
    return this.rules.length
  }

  clearRules(): void {
    this.rules = []
  }

  record(request: RecordedRequest): void {
    this.recorded.push(request)
    if (this.recorded.length > MAX_RECORDED) this.recorded.splice(0, this.recorded.length - MAX_RECORDED)
  }

  requests(filter?: RequestFilter): ReadonlyArray<RecordedRequest> {
    return this.recorded.filter((r) => matchesFilter(filter, r))
  }

  clearRequests(): void {
    this.recorded = []
  }
}

// ---------------------------------------------------------------------------------------------------------
// Where each API names its items, and where its answer puts their errors

/** One level of items: the request's array and the response's array that answers it, element by element. */
interface Level {
  readonly req: string
  readonly res: string
  /** The request's items are plain values (names, partition numbers): the response field that gets the value. */
  readonly value?: string
  /** Response fields taken from request fields of another name. */
  readonly from?: Readonly<Record<string, string>>
  /** The error code field of the response's items; default "errorCode". */
  readonly error?: string
  readonly is: "topic" | "partition" | "group" | "resource"
  readonly inner?: Level
}

interface Place {
  readonly versions?: Versions
  readonly level: Level
  /** Run the handler on the whole request and set the error on the answer's items (Metadata). */
  readonly overlay?: boolean
  /** Fields set on the request the handler runs with when items of it were answered with an error. */
  readonly urgent?: Readonly<Record<string, unknown>>
  /** Requests of this kind are not answered at all (Produce with acks=0). */
  readonly unanswered?: (request: any) => boolean
}

const partitions = (req: string, res: string, extra: Partial<Level> = {}): Level => ({ req, res, is: "partition", ...extra })
const topics = (req: string, res: string, inner?: Level, extra: Partial<Level> = {}): Level => ({
  req,
  res,
  is: "topic",
  ...(inner === undefined ? {} : { inner }),
  ...extra
})
const partitioned = (req = "topics", res = "topics", inner: Level = partitions("partitions", "partitions")): ReadonlyArray<Place> => [
  { level: topics(req, res, inner) }
]

const places: Readonly<Record<string, ReadonlyArray<Place>>> = {
  Produce: [{
    level: topics("topicData", "responses", partitions("partitionData", "partitionResponses")),
    unanswered: (r: { readonly acks: number }) => r.acks === 0
  }],
  Fetch: [{
    level: topics("topics", "responses", partitions("partitions", "partitions", { from: { partitionIndex: "partition" } })),
    urgent: { maxWaitMs: 0 }
  }],
  ListOffsets: partitioned(),
  OffsetCommit: partitioned(),
  DeleteRecords: partitioned(),
  OffsetForLeaderEpoch: partitioned(),
  TxnOffsetCommit: partitioned(),
  OffsetFetch: [
    { versions: [0, 7], level: topics("topics", "topics", partitions("partitionIndexes", "partitions", { value: "partitionIndex" })) },
    {
      versions: [8, Infinity],
      level: {
        req: "groups",
        res: "groups",
        is: "group",
        inner: topics("topics", "topics", partitions("partitionIndexes", "partitions", { value: "partitionIndex" }))
      }
    }
  ],
  AddPartitionsToTxn: [
    {
      versions: [0, 3],
      level: topics("v3AndBelowTopics", "resultsByTopicV3AndBelow", partitions("partitions", "resultsByPartition", { value: "partitionIndex", error: "partitionErrorCode" }))
    },
    {
      versions: [4, Infinity],
      level: {
        req: "transactions",
        res: "resultsByTransaction",
        is: "group",
        inner: topics("topics", "topicResults", partitions("partitions", "resultsByPartition", { value: "partitionIndex", error: "partitionErrorCode" }))
      }
    }
  ],
  CreateTopics: [{ level: topics("topics", "topics") }],
  CreatePartitions: [{ level: topics("topics", "results") }],
  DeleteTopics: [
    { versions: [0, 5], level: topics("topicNames", "responses", undefined, { value: "name" }) },
    { versions: [6, Infinity], level: topics("topics", "responses") }
  ],
  DescribeGroups: [{ level: { req: "groups", res: "groups", value: "groupId", is: "group" } }],
  DeleteGroups: [{ level: { req: "groupsNames", res: "results", value: "groupId", is: "group" } }],
  FindCoordinator: [{ versions: [4, Infinity], level: { req: "coordinatorKeys", res: "coordinators", value: "key", is: "group" } }],
  DescribeConfigs: [{ level: { req: "resources", res: "results", is: "resource" } }],
  AlterConfigs: [{ level: { req: "resources", res: "responses", is: "resource" } }],
  IncrementalAlterConfigs: [{ level: { req: "resources", res: "responses", is: "resource" } }],
  Metadata: [{ level: topics("topics", "topics"), overlay: true }]
}

/** Fields that identify an item: copied from a request item to the response item answering it. */
const KEYS = ["name", "topic", "topicId", "index", "partition", "partitionIndex", "groupId", "transactionalId", "resourceType", "resourceName", "key"]

/** Values Kafka answers beside an error where the definition's default is 0 (offsets and ids it does not know). */
const UNKNOWN: Readonly<Record<string, number>> = {
  baseOffset: -1,
  highWatermark: -1,
  lastStableOffset: -1,
  logStartOffset: -1,
  lowWatermark: -1,
  offset: -1,
  committedOffset: -1,
  endOffset: -1,
  timestamp: -1,
  producerId: -1,
  producerEpoch: -1,
  nodeId: -1,
  port: -1,
  generationId: -1
}

/** A value of `type` (a response or one of its items) as Kafka fills one in beside an error. */
const errorValue = (type: Type<unknown>, version: number): Obj => {
  const out = defaultValue(type) as Obj
  for (const [k, v] of Object.entries(UNKNOWN)) if (hasField(type, k, version) && out[k] === 0) out[k] = v
  return out
}

/** Codes about the coordinator, the session or the client's rights as a whole: answered at the highest place. */
const HIGH = new Set([14, 15, 16, 30, 31, 53, 70, 71])

const TOPIC_RESOURCE = 2

const wantsAll = (place: Place | undefined, request: unknown): boolean =>
  place?.overlay === true && (request as Record<string, unknown>)[place.level.req] === null

const placeOf = (api: string, version: number): Place | undefined =>
  places[api]?.find((p) => p.versions === undefined || (version >= p.versions[0] && version <= p.versions[1]))

// ---------------------------------------------------------------------------------------------------------
// The message definitions, walked

type Struct = { readonly kind: "struct"; readonly fields: Readonly<Record<string, { readonly type: Type<unknown>; readonly versions: Versions }>> }

const hasField = (type: Type<unknown> | undefined, name: string, version: number): boolean => {
  if (type === undefined || type.kind !== "struct") return false
  const f = (type as Struct).fields[name]
  return f !== undefined && version >= f.versions[0] && version <= f.versions[1]
}

/** The element type of the array field `name` of a struct type. */
const elementOf = (type: Type<unknown> | undefined, name: string): Type<unknown> | undefined => {
  if (type === undefined || type.kind !== "struct") return undefined
  const f = (type as Struct).fields[name]
  return f !== undefined && f.type.kind === "array" ? f.type.element : undefined
}

/** One item of a request, with the topic and partition it stands for and its own items. */
interface Item {
  readonly value: unknown
  readonly topic: string | undefined
  readonly partition: number | undefined
  readonly children: ReadonlyArray<Item> | undefined
}

type Names = (id: string) => string | undefined

/** What the faults know of the cluster's topics: names by id, and every name (for a Metadata of all topics). */
export interface Catalog {
  readonly name: Names
  readonly all: () => ReadonlyArray<string>
}

const noCatalog: Catalog = { name: () => undefined, all: () => [] }

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined)

const itemsOf = (level: Level, value: unknown, names: Names, topic: string | undefined): Array<Item> => {
  const list = (value as Record<string, unknown> | null)?.[level.req]
  if (!Array.isArray(list)) return []
  return list.map((element): Item => {
    let t = topic
    let partition: number | undefined
    if (level.is === "topic") {
      if (level.value !== undefined) t = str(element)
      else {
        const e = element as Record<string, unknown>
        const id = str(e.topicId)
        t = str(e.name) ?? str(e.topic) ?? (id !== undefined && id !== ZERO_UUID ? names(id) ?? id : undefined)
      }
    } else if (level.is === "partition") {
      const e = element as Record<string, unknown>
      const p = level.value !== undefined ? element : e.partitionIndex ?? e.partition ?? e.index
      partition = typeof p === "number" ? p : undefined
    } else if (level.is === "resource") {
      const e = element as Record<string, unknown>
      if (e.resourceType === TOPIC_RESOURCE) t = str(e.resourceName)
    }
    const children = level.inner === undefined ? undefined : itemsOf(level.inner, element, names, t)
    return { value: element, topic: t, partition, children }
  })
}

const leavesOf = (items: ReadonlyArray<Item>, out: Array<Leaf> = []): Array<Leaf> => {
  for (const item of items) {
    if (item.children !== undefined && item.children.length > 0) leavesOf(item.children, out)
    else out.push({ topic: item.topic, partition: item.partition })
  }
  return out
}

/** Request fields that hold topics, in the APIs without a place above (recording only). */
const TOPIC_ARRAYS = new Set(["topics", "topicData", "topicNames", "v3AndBelowTopics", "subscribedTopicNames", "topicPartitions"])

const topicsAnywhere = (value: unknown, names: Names, out: Set<string>, topicArray = false): void => {
  if (Array.isArray(value)) {
    for (const v of value) {
      if (topicArray && typeof v === "string") out.add(v)
      else topicsAnywhere(v, names, out, topicArray)
    }
    return
  }
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return
  const o = value as Record<string, unknown>
  if (topicArray) {
    const id = str(o.topicId)
    const name = str(o.name) ?? str(o.topic) ?? str(o.topicName) ?? (id !== undefined && id !== ZERO_UUID ? names(id) ?? id : undefined)
    if (name !== undefined) out.add(name)
  }
  if (o.resourceType === TOPIC_RESOURCE && str(o.resourceName) !== undefined) out.add(o.resourceName as string)
  for (const [k, v] of Object.entries(o)) if (typeof v === "object" && v !== null) topicsAnywhere(v, names, out, TOPIC_ARRAYS.has(k))
}

const mentionsIds = (value: unknown): boolean => {
  if (Array.isArray(value)) return value.some(mentionsIds)
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return false
  for (const [k, v] of Object.entries(value)) {
    if (k === "topicId" && typeof v === "string" && v !== ZERO_UUID) return true
    if (typeof v === "object" && mentionsIds(v)) return true
  }
  return false
}

/** A request as faults see it: its items (for the APIs with a place) and the topics it names. */
export interface Described {
  readonly view: RequestView
  readonly topics: ReadonlyArray<string>
  readonly items: ReadonlyArray<Item> | undefined
}

export const describe = (
  api: string,
  version: number,
  request: unknown,
  meta: { readonly brokerId: number; readonly clientId: string | null },
  catalog: Catalog = noCatalog
): Described => {
  const names = catalog.name
  const place = placeOf(api, version)
  const items = place === undefined ? undefined : itemsOf(place.level, request, names, undefined)
  let leaves: Array<Leaf>
  let topicNames: Array<string>
  if (items !== undefined) {
    leaves = leavesOf(items)
    topicNames = [...new Set(leaves.flatMap((l) => (l.topic === undefined ? [] : [l.topic])))]
    // A Metadata request for all topics (null) names every topic, as far as rules go.
    if (wantsAll(place, request)) leaves = catalog.all().map((topic) => ({ topic, partition: undefined }))
  } else {
    const found = new Set<string>()
    topicsAnywhere(request, names, found)
    topicNames = [...found]
    leaves = topicNames.map((topic) => ({ topic, partition: undefined }))
  }
  return { view: { api, brokerId: meta.brokerId, clientId: meta.clientId, leaves }, topics: topicNames, items }
}

// ---------------------------------------------------------------------------------------------------------
// Error answers, built from the response definitions

type Obj = Record<string, unknown>

/** Which items a rule picks: all (a rule naming no topic or partition) or those it names. */
type Picks = (leaf: Leaf) => boolean

const picked = (item: Item, picks: Picks): boolean =>
  item.children !== undefined && item.children.length > 0
    ? item.children.some((c) => picked(c, picks))
    : picks({ topic: item.topic, partition: item.partition })

/** The levels, outermost first, whose response items carry an error field at `version`. */
const errorLevels = (level: Level, type: Type<unknown> | undefined, version: number, depth = 0, out: Array<number> = []): Array<number> => {
  const element = elementOf(type, level.res)
  if (hasField(element, level.error ?? "errorCode", version)) out.push(depth)
  if (level.inner !== undefined) errorLevels(level.inner, element, version, depth + 1, out)
  return out
}

/** The response items answering the picked request items, with `errorCode` at depth `at` (deeper levels left out). */
const errorItems = (
  level: Level,
  type: Type<unknown> | undefined,
  items: ReadonlyArray<Item>,
  picks: Picks,
  errorCode: number,
  at: number,
  version: number,
  depth = 0
): Array<Obj> => {
  const element = elementOf(type, level.res)
  if (element === undefined) return []
  return items.filter((item) => picked(item, picks)).map((item) => {
    const out = errorValue(element, version)
    const fields = (element as Struct).fields
    if (level.value !== undefined) out[level.value] = item.value
    else {
      const source = item.value as Obj
      for (const k of KEYS) if (k in fields && k in source) out[k] = source[k]
      for (const [to, fromField] of Object.entries(level.from ?? {})) out[to] = source[fromField]
    }
    if (depth === at) out[level.error ?? "errorCode"] = errorCode
    else if (level.inner !== undefined && item.children !== undefined) {
      out[level.inner.res] = errorItems(level.inner, element, item.children, picks, errorCode, at, version, depth + 1)
    }
    return out
  })
}

/** The request without the picked items (parents left without items go too); undefined when nothing is left. */
const without = (level: Level, request: Obj, items: ReadonlyArray<Item>, picks: Picks): Obj | undefined => {
  const kept: Array<unknown> = []
  for (const item of items) {
    if (!picked(item, picks)) {
      kept.push(item.value)
      continue
    }
    if (level.inner === undefined || item.children === undefined || item.children.length === 0) continue
    const rest = without(level.inner, item.value as Obj, item.children, picks)
    if (rest !== undefined) kept.push(rest)
  }
  return kept.length === 0 ? undefined : { ...request, [level.req]: kept }
}

const sameItem = (a: Obj, b: Obj, level: Level): boolean => {
  if (level.value !== undefined) return a[level.value] === b[level.value]
  for (const k of KEYS) if (k in a && a[k] !== b[k]) return false
  return true
}

/** The handler's answer with the error items merged in (into the handler's item for the same topic, if any). */
const merge = (level: Level, answered: Obj, errors: ReadonlyArray<Obj>): Obj => {
  const list = [...((answered[level.res] as Array<Obj> | undefined) ?? [])]
  for (const e of errors) {
    const i = level.inner === undefined ? -1 : list.findIndex((a) => sameItem(a, e, level))
    list.push(e)
    if (i >= 0) {
      list.pop()
      list[i] = merge(level.inner!, list[i]!, (e[level.inner!.res] as Array<Obj> | undefined) ?? [])
    }
  }
  return { ...answered, [level.res]: list }
}

/** Sets `errorCode` on the answer's topics the rule picks (and empties their partitions), for Metadata. */
const overlay = (level: Level, answered: Obj, picks: Picks, errorCode: number): Obj => ({
  ...answered,
  [level.res]: ((answered[level.res] as Array<Obj> | undefined) ?? []).map((t) =>
    picks({ topic: str(t.name) ?? str(t.topic), partition: undefined })
      ? { ...t, [level.error ?? "errorCode"]: errorCode, ...(Array.isArray(t.partitions) ? { partitions: [] } : {}) }
      : t
  )
})

/** How a request is answered when a rule injects `errorCode`. */
export type ErrorPlan<Req, Res> =
  | { readonly _tag: "Answer"; readonly response: Res | NoResponse }
  /** Run the handler on `request` (the items not faulted) and pass its answer to `complete`. */
  | { readonly _tag: "Partial"; readonly request: Req; readonly complete: (answered: Res | NoResponse) => Res | NoResponse }

/**
 * The answer to `request` when `errorCode` is injected: the whole request answered with it, or (when the rule
 * names items and the error goes per item) the handler run on the rest.
 */
export const planError = <Req, Res>(
  api: Api<Req, Res>,
  version: number,
  request: Req,
  described: Described,
  match: FaultMatch,
  errorCode: number
): ErrorPlan<Req, Res> => {
  const place = placeOf(api.name, version)
  const response = api.response as Type<unknown>
  const topLevel = hasField(response, "errorCode", version)
  const picks: Picks = namesItems(match) ? (leaf) => leafMatches(match, leaf) : () => true
  const whole = (): Obj => {
    const out = errorValue(response, version)
    if (topLevel) out.errorCode = errorCode
    return out
  }
  if (place?.unanswered?.(request) === true) {
    if (!namesItems(match)) return { _tag: "Answer", response: NoResponse }
    const rest = described.items !== undefined ? without(place.level, request as Obj, described.items, picks) : undefined
    return rest === undefined ? { _tag: "Answer", response: NoResponse } : { _tag: "Partial", request: rest as Req, complete: () => NoResponse }
  }
  if (place?.overlay === true) {
    const { level } = place
    return { _tag: "Partial", request, complete: (answered) => answered === NoResponse ? answered : overlay(level, answered as Obj, picks, errorCode) as Res }
  }
  if (place === undefined || described.items === undefined || described.items.length === 0) {
    return { _tag: "Answer", response: whole() as Res }
  }
  const { level } = place
  const levels = errorLevels(level, response, version)
  const high = HIGH.has(errorCode)
  // The whole request gets a coordinator-level code where the response has a top-level error.
  if (levels.length === 0 || (high && topLevel)) return { _tag: "Answer", response: whole() as Res }
  const at = high ? levels[0]! : levels[levels.length - 1]!
  const errors = errorItems(level, response, described.items, picks, errorCode, at, version)
  const rest = namesItems(match) ? without(level, request as Obj, described.items, picks) : undefined
  const base = defaultValue(response) as Obj
  if (rest === undefined) return { _tag: "Answer", response: { ...base, [level.res]: errors } as Res }
  return {
    _tag: "Partial",
    request: { ...rest, ...place.urgent } as Req,
    complete: (answered) => answered === NoResponse ? answered : merge(level, answered as Obj, errors) as Res
  }
}

// ---------------------------------------------------------------------------------------------------------
// The service

/** A disconnect rule fired: the connection closes instead of answering. */
export class InjectedDisconnect extends Schema.TaggedError<InjectedDisconnect>()("InjectedDisconnect", {
  api: Schema.String,
  correlationId: Schema.Number,
  after: Schema.Boolean
}) {
  override get message() {
    return `fault injected: disconnect instead of answering ${this.api} (correlation id ${this.correlationId}, ${this.after ? "after" : "before"} it ran)`
  }
}

/** `waitFor` saw no matching request in time. */
export class WaitForTimeout extends Schema.TaggedError<WaitForTimeout>()("WaitForTimeout", {
  timeoutMs: Schema.Number
}) {
  override get message() {
    return `no matching request arrived within ${this.timeoutMs} ms`
  }
}

interface Waiter {
  readonly filter: RequestFilter
  readonly deferred: Deferred.Deferred<RecordedRequest>
}

export class Faults extends Context.Service<Faults, {
  readonly inject: (rule: InjectRule) => Effect.Effect<void>
  readonly delay: (rule: DelayRule) => Effect.Effect<void>
  readonly disconnect: (rule: DisconnectRule) => Effect.Effect<void>
  /** Removes every rule. */
  readonly clear: Effect.Effect<void>
  /** The requests recorded (the last MAX_RECORDED), oldest first. */
  readonly requests: (filter?: RequestFilter) => Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** The first request matching `filter`, recorded already or arriving within `timeoutMs` (default 10 s). */
  readonly waitFor: (filter: RequestFilter, timeoutMs?: number) => Effect.Effect<RecordedRequest, WaitForTimeout>
  /** No rules and no recorded requests. */
  readonly reset: Effect.Effect<void>
  /** For the connection: records the request and returns the fault to apply, if any. */
  readonly arrived: (request: RecordedRequest, view: RequestView) => ActiveRule | undefined
}>()("kafka/Faults") {
  static readonly layer: Layer.Layer<Faults> = Layer.sync(this, () => make())
}

export const make = (): Faults["Service"] => {
  const book = new FaultBook()
  let waiters: Array<Waiter> = []
  const arrived = (request: RecordedRequest, view: RequestView) => {
    book.record(request)
    if (waiters.length > 0) {
      waiters = waiters.filter((w) => {
        if (!matchesFilter(w.filter, request)) return true
        Deferred.doneUnsafe(w.deferred, Effect.succeed(request))
        return false
      })
    }
    return book.take(view)
  }
  return Faults.of({
    inject: (rule) => Effect.sync(() => book.add(rule, { _tag: "Error", errorCode: rule.errorCode })),
    delay: (rule) => Effect.sync(() => book.add(rule, { _tag: "Delay", ms: rule.ms })),
    disconnect: (rule) => Effect.sync(() => book.add(rule, { _tag: "Disconnect", after: rule.when === "after" })),
    clear: Effect.sync(() => book.clearRules()),
    requests: (filter) => Effect.sync(() => book.requests(filter)),
    waitFor: (filter, timeoutMs = 10_000) =>
      Effect.suspend(() => {
        const already = book.requests(filter)[0]
        if (already !== undefined) return Effect.succeed(already)
        const waiter: Waiter = { filter, deferred: Deferred.makeUnsafe<RecordedRequest>() }
        waiters.push(waiter)
        return Deferred.await(waiter.deferred).pipe(
          Effect.timeoutOrElse({
            duration: Duration.millis(timeoutMs),
            orElse: () => Effect.fail(new WaitForTimeout({ timeoutMs }))
          }),
          Effect.ensuring(Effect.sync(() => {
            waiters = waiters.filter((w) => w !== waiter)
          }))
        )
      }),
    reset: Effect.sync(() => {
      book.clearRules()
      book.clearRequests()
    }),
    arrived
  })
}

/**
 * Runs `handler` on `request` the way the rules say: recorded first, then answered with an injected error,
 * delayed, or cut off by closing the connection; else as usual.
 */
export const serve = <Req, Res, R>(
  faults: Faults["Service"],
  handler: Handler<Req, Res, R>,
  request: Req,
  context: RequestContext,
  brokerId: number
): Effect.Effect<Res | NoResponse, InjectedDisconnect, R | ClusterMetadata> =>
  Effect.gen(function*() {
    const api = handler.api
    let catalog = noCatalog
    if (mentionsIds(request) || wantsAll(placeOf(api.name, context.apiVersion), request)) {
      const image = yield* (yield* ClusterMetadata).image
      catalog = { name: (id) => image.topicsById.get(id)?.name, all: () => [...image.topics.keys()] }
    }
    const described = describe(api.name, context.apiVersion, request, { brokerId, clientId: context.clientId }, catalog)
    const rule = faults.arrived({
      api: api.name,
      apiVersion: context.apiVersion,
      brokerId,
      clientId: context.clientId,
      correlationId: context.correlationId,
      topics: described.topics
    }, described.view)
    if (rule === undefined) return yield* handler.handle(request, context)
    const { fault } = rule
    switch (fault._tag) {
      case "Disconnect":
        if (fault.after) yield* handler.handle(request, context)
        return yield* new InjectedDisconnect({ api: api.name, correlationId: context.correlationId, after: fault.after })
      case "Delay":
        yield* fault.ms === Infinity ? Effect.never : Effect.sleep(Duration.millis(fault.ms))
        return yield* handler.handle(request, context)
      case "Error": {
        const plan = planError(api, context.apiVersion, request, described, rule.match, fault.errorCode)
        if (plan._tag === "Answer") return plan.response
        return plan.complete(yield* handler.handle(plan.request, context))
      }
    }
  })
