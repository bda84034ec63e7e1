// The console's JSON API as effects over the broker's services (the HTTP layer routes to them). Reads come
// from the metadata image, the log store and the group coordinator; every action goes through the broker's own
// request handlers (CreateTopics, DeleteTopics, Produce, OffsetCommit, DescribeConfigs) as the console's
// principal, so it is checked, authorized and stored exactly as a client's request would be.
import { Effect, Schema } from "effect"
import { ZERO_UUID } from "../../protocol/Bytes.ts"
import { codecName } from "../../protocol/Compression.ts"
import { assignedPartitions } from "../../protocol/ConsumerProtocol.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { COMPRESSION_MASK, CONTROL, decodeRecords, encodeBatch, scanBatches, TIMESTAMP_TYPE_LOG_APPEND } from "../../protocol/RecordBatch.ts"
import type { Handler, ConnectionInfo } from "../api/Handler.ts"
import * as CreateTopics from "../api/CreateTopics.ts"
import * as DeleteTopics from "../api/DeleteTopics.ts"
import * as DescribeConfigs from "../api/DescribeConfigs.ts"
import * as OffsetCommit from "../api/OffsetCommit.ts"
import * as Produce from "../api/Produce.ts"
import { NoResponse } from "../api/Handler.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { ConfigSource } from "../config/ConfigEntries.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { LogStore } from "../log/LogStore.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { sortedTopics } from "../metadata/MetadataImage.ts"
import type { BoundListener } from "../network/Listener.ts"
import { Cluster, controllerOf } from "../cluster/Cluster.ts"
import { groupOffsets, partitionsOf } from "./Inspect.ts"
import { partitionForKey, render } from "./Render.ts"
import type * as V from "./Views.ts"

/** An answer other than 2xx: its HTTP status, and the Kafka error it stands for when one does. */
export class ConsoleError extends Schema.TaggedError<ConsoleError>()("ConsoleError", {
  status: Schema.Number,
  error: Schema.String,
  errorCode: Schema.optional(Schema.Number)
}) {}

const notFound = (what: string) => new ConsoleError({ status: 404, error: `${what} not found` })
const badField = (name: string, expected: string) => new ConsoleError({ status: 400, error: `${name}: expected ${expected}` })
const isCount = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n > 0
const isStringRecord = (o: unknown) =>
  typeof o === "object" && o !== null && !Array.isArray(o) && Object.values(o).every((v) => typeof v === "string")

/** A Kafka error code from a handler's answer as an HTTP error: 404 for unknown things, 403 refusals, else 400. */
const kafkaError = (errorCode: number, message: string | null) =>
  new ConsoleError({
    status: errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || errorCode === ErrorCode.GROUP_ID_NOT_FOUND
      ? 404
      : [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.GROUP_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED].includes(errorCode as never)
      ? 403
      : errorCode === ErrorCode.TOPIC_ALREADY_EXISTS
      ? 409
      : 400,
    error: message ?? `Kafka error ${errorCode}`,
    errorCode
  })

/** Runs one of the broker's handlers as a request from the console. */
const call = <Req, Res, R>(h: Handler<Req, Res, R>, version: number, request: Req, connection: ConnectionInfo) =>
  Effect.flatMap(
    h.handle(request, { apiVersion: version, correlationId: 0, clientId: "console", connection }),
    (response) => (response === NoResponse ? Effect.die(new Error(`${h.api.name} gave no answer`)) : Effect.succeed(response as Res))
  )

const SOURCE_NAMES = new Map<number, string>(Object.entries(ConfigSource).map(([name, code]) => [code, name]))

// ---------------------------------------------------------------------------------------------------------
// Reads

/** The live nodes as a client of the first listener sees them (its advertised address, else the one bound). */
export const brokers = (bound: ReadonlyArray<BoundListener>) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const cluster = yield* Cluster.current
    const first = bound[0]
    const listener = config.listeners.find((l) => l.name === first?.name) ?? config.listeners[0]!
    const host = first === undefined || first.host === "" || first.host === "0.0.0.0" || first.host === "::" ? "127.0.0.1" : first.host
    const seen: ConnectionInfo = { id: 0, localHost: host, localPort: first?.port ?? listener.port, remote: "console", listener }
    const controller = controllerOf(cluster)
    return cluster.live().flatMap((nodeId): Array<V.BrokerView> => {
      const e = cluster.endpoint(nodeId, seen)
      return e === undefined ? [] : [{ nodeId, host: e.host, port: e.port, listener: listener.name, controller: nodeId === controller }]
    })
  })

export const topics = Effect.gen(function*() {
  const image = yield* (yield* ClusterMetadata).image
  return yield* Effect.forEach(sortedTopics(image), (t) =>
    Effect.map(partitionsOf(t), (ps): V.TopicSummary => ({
      name: t.name,
      id: t.id,
      partitions: t.partitions.length,
      messages: ps.reduce((n, p) => n + p.logEndOffset - p.logStartOffset, 0),
      bytes: ps.reduce((n, p) => n + p.bytes, 0)
    })))
})

export const overview = (bound: ReadonlyArray<BoundListener>, version: string) =>
  Effect.gen(function*() {
    const metadata = yield* ClusterMetadata
    return {
      clusterId: metadata.clusterId,
      version,
      brokers: yield* brokers(bound),
      topics: yield* topics,
      groups: (yield* (yield* GroupCoordinator).list).length
    } satisfies V.Overview
  })

export const topic = (name: string, connection: ConnectionInfo) =>
  Effect.gen(function*() {
    const image = yield* (yield* ClusterMetadata).image
    const info = image.topics.get(name)
    if (info === undefined) return yield* notFound(`topic ${name}`)
    const partitions = (yield* partitionsOf(info)).map((p): V.PartitionView => ({
      partition: p.partition,
      leader: p.leader,
      leaderEpoch: p.leaderEpoch,
      logStartOffset: p.logStartOffset,
      highWatermark: p.logEndOffset,
      bytes: p.bytes
    }))
    const described = yield* call(DescribeConfigs.make, 4, {
      resources: [{ resourceType: 2, resourceName: name, configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false
    }, connection)
    const result = described.results[0]!
    if (result.errorCode !== 0) return yield* kafkaError(result.errorCode, result.errorMessage)
    const configs = result.configs.map((c): V.ConfigView => ({
      name: c.name,
      value: c.value,
      source: SOURCE_NAMES.get(c.configSource) ?? "UNKNOWN",
      isDefault: c.configSource === ConfigSource.DEFAULT_CONFIG,
      readOnly: c.readOnly,
      sensitive: c.isSensitive
    }))
    return { name, id: info.id, partitions, configs } satisfies V.TopicDetail
  })

export interface MessageQuery {
  /** undefined: every partition. */
  readonly partition?: number
  readonly from: "newest" | "oldest" | "offset" | "timestamp"
  readonly offset?: number
  readonly timestamp?: number
  readonly limit: number
}

/** Bytes read from a partition per step of the message browser. */
const READ_BYTES = 1024 * 1024

/** The records of a partition from `start`, up to `count` of them, control batches and records before `minTimestamp` left out. */
const readFrom = (topicName: string, partition: number, start: number, end: number, count: number, minTimestamp = -Infinity) =>
  Effect.gen(function*() {
    const store = yield* LogStore
    const tp = { topic: topicName, partition }
    const out: Array<V.MessageView> = []
    let offset = start
    while (out.length < count && offset < end) {
      const read = yield* store.read(tp, offset, READ_BYTES, true)
      const source = read.records
      let bytes: Uint8Array
      if (source instanceof Uint8Array) bytes = source
      else {
        bytes = new Uint8Array(source.length)
        yield* Effect.orDie(source.read(bytes, 0))
      }
      if (bytes.length === 0) break
      let next = offset
      scanBatches(bytes, (header, position) => {
        next = Math.max(next, header.baseOffset + header.lastOffsetDelta + 1)
        if ((header.attributes & CONTROL) !== 0 || out.length >= count) return
        const compression = codecName(header.attributes & COMPRESSION_MASK)
        const timestampType = (header.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0 ? "LogAppendTime" : "CreateTime"
        for (const r of decodeRecords(bytes.subarray(position, position + header.size))) {
          if (r.offset < offset || r.timestamp < minTimestamp || out.length >= count) continue
          out.push({
            partition,
            offset: r.offset,
            timestamp: r.timestamp,
            timestampType,
            key: render(r.key),
            value: render(r.value),
            headers: r.headers.map((h) => ({ key: h.key, value: render(h.value) })),
            compression
          })
        }
      })
      if (next <= offset) break
      offset = next
    }
    return out
  })

export const messages = (name: string, q: MessageQuery) =>
  Effect.gen(function*() {
    const image = yield* (yield* ClusterMetadata).image
    const info = image.topics.get(name)
    if (info === undefined) return yield* notFound(`topic ${name}`)
    if (q.partition !== undefined && (q.partition < 0 || q.partition >= info.partitions.length)) return yield* notFound(`partition ${q.partition} of ${name}`)
    const store = yield* LogStore
    const limit = Math.max(1, Math.min(500, q.limit))
    const partitions = (yield* partitionsOf(info)).filter((p) => q.partition === undefined || p.partition === q.partition)
    const pages = yield* Effect.forEach(partitions, (p) =>
      Effect.gen(function*() {
        let start = p.logStartOffset
        if (q.from === "newest") start = Math.max(p.logStartOffset, p.logEndOffset - limit)
        else if (q.from === "offset") start = Math.max(p.logStartOffset, q.offset ?? 0)
        else if (q.from === "timestamp") {
          const found = yield* store.offsetForTimestamp({ topic: name, partition: p.partition }, q.timestamp ?? 0)
          start = found === undefined ? p.logEndOffset : found.offset
        }
        return yield* readFrom(name, p.partition, start, p.logEndOffset, limit, q.from === "timestamp" ? q.timestamp ?? 0 : -Infinity)
      }).pipe(Effect.catchTag("OffsetOutOfRange", () => Effect.succeed([] as Array<V.MessageView>))))
    const all = pages.flat()
    if (q.from === "newest") {
      all.sort((a, b) => b.timestamp - a.timestamp || b.offset - a.offset)
    } else {
      all.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset)
    }
    return { messages: all.slice(0, limit) } satisfies V.MessagePage
  })

export const groups = Effect.gen(function*() {
  const coordinator = yield* GroupCoordinator
  const listed = yield* coordinator.list
  return yield* Effect.forEach([...listed].sort((a, b) => (a.groupId < b.groupId ? -1 : 1)), (g) =>
    Effect.gen(function*() {
      const d = yield* coordinator.describe(g.groupId)
      const offsets = yield* groupOffsets(g.groupId)
      return {
        groupId: g.groupId,
        state: d.state,
        groupType: g.groupType ?? "classic",
        protocolType: g.protocolType,
        protocol: d.protocolName,
        members: d.members.length,
        lag: offsets.reduce((n, o) => n + o.lag, 0)
      } satisfies V.GroupSummary
    }))
})

export const group = (groupId: string, lagHistory: ReadonlyArray<{ readonly at: number; readonly lag: number }>) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    const listing = (yield* coordinator.list).find((g) => g.groupId === groupId)
    if (listing === undefined) return yield* notFound(`group ${groupId}`)
    const d = yield* coordinator.describe(groupId)
    const consumer = listing.groupType === "consumer" ? yield* coordinator.consumerDescribe(groupId) : undefined
    const image = yield* (yield* ClusterMetadata).image
    const members: Array<V.MemberView> = consumer !== undefined
      ? consumer.members.map(({ member }) => ({
        memberId: member.memberId,
        groupInstanceId: member.instanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        assignment: [...member.assigned].map(([topicId, partitions]) => ({
          topic: image.topicsById.get(topicId)?.name ?? topicId,
          partitions: [...partitions].sort((a, b) => a - b)
        }))
      }))
      : d.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: listing.protocolType === "consumer" ? assignedPartitions(m.assignment) ?? [] : []
      }))
    const offsets = yield* groupOffsets(groupId)
    return {
      groupId,
      state: consumer?.state ?? d.state,
      groupType: listing.groupType ?? "classic",
      protocolType: listing.protocolType,
      protocol: consumer?.assignorName ?? d.protocolName,
      members,
      offsets,
      lag: offsets.reduce((n, o) => n + o.lag, 0),
      lagHistory
    } satisfies V.GroupDetail
  })

// ---------------------------------------------------------------------------------------------------------
// Actions

export const createTopic = (body: V.CreateTopicBody, connection: ConnectionInfo) =>
  Effect.gen(function*() {
    if (typeof body.name !== "string") return yield* new ConsoleError({ status: 400, error: "name: a topic name is required" })
    if (body.partitions !== undefined && !isCount(body.partitions)) return yield* badField("partitions", "a positive integer")
    if (body.configs !== undefined && !isStringRecord(body.configs)) return yield* badField("configs", "an object of strings")
    const answer = yield* call(CreateTopics.make, 7, {
      topics: [{
        name: body.name,
        numPartitions: body.partitions ?? -1,
        replicationFactor: -1,
        assignments: [],
        configs: Object.entries(body.configs ?? {}).map(([name, value]) => ({ name, value }))
      }],
      timeoutMs: 30_000,
      validateOnly: false
    }, connection)
    const t = answer.topics[0]!
    if (t.errorCode !== 0) return yield* kafkaError(t.errorCode, t.errorMessage)
    return (yield* topics).find((s) => s.name === body.name)!
  })

export const deleteTopic = (name: string, connection: ConnectionInfo) =>
  Effect.gen(function*() {
    const answer = yield* call(DeleteTopics.make, 6, { topics: [{ name, topicId: ZERO_UUID }], topicNames: [], timeoutMs: 30_000 }, connection)
    const r = answer.responses[0]!
    if (r.errorCode !== 0) return yield* kafkaError(r.errorCode, r.errorMessage)
  })

const utf8 = new TextEncoder()

export const produce = (name: string, body: V.ProduceBody, connection: ConnectionInfo) =>
  Effect.gen(function*() {
    const image = yield* (yield* ClusterMetadata).image
    const info = image.topics.get(name)
    if (info === undefined) return yield* notFound(`topic ${name}`)
    if (body.partition !== undefined && !(Number.isSafeInteger(body.partition) && body.partition >= 0)) return yield* badField("partition", "a partition number")
    if (body.key !== undefined && body.key !== null && typeof body.key !== "string") return yield* badField("key", "a string or null")
    if (body.value !== undefined && body.value !== null && typeof body.value !== "string") return yield* badField("value", "a string or null")
    if (body.headers !== undefined && !(Array.isArray(body.headers) && body.headers.every((h) => typeof h?.key === "string" && typeof h?.value === "string"))) {
      return yield* badField("headers", "a list of { key, value } strings")
    }
    const key = body.key === undefined || body.key === null ? null : utf8.encode(body.key)
    const partition = body.partition ?? (key === null ? 0 : partitionForKey(key, info.partitions.length))
    const batch = encodeBatch([{
      key,
      value: body.value === null || body.value === undefined ? null : utf8.encode(body.value),
      headers: (body.headers ?? []).map((h) => ({ key: h.key, value: utf8.encode(h.value) }))
    }], { timestamp: Date.now() })
    const answer = yield* call(Produce.make, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name, partitionData: [{ index: partition, records: batch }] }]
    }, connection)
    const p = answer.responses[0]!.partitionResponses[0]!
    if (p.errorCode !== 0) return yield* kafkaError(p.errorCode, p.errorMessage)
    return { partition, offset: p.baseOffset } satisfies V.ProduceResult
  })

/** Resets a group's offsets as `kafka-consumer-groups --reset-offsets` does: only while it has no members. */
export const resetOffsets = (groupId: string, body: V.ResetOffsetsBody, connection: ConnectionInfo) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    const d = yield* coordinator.describe(groupId)
    if (d.members.length > 0 || (d.state !== "Empty" && d.state !== "Dead")) {
      return yield* new ConsoleError({
        status: 409,
        error: `Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${d.state}.`
      })
    }
    if (body.to !== "earliest" && body.to !== "latest" && body.to !== "offset") return yield* badField("to", "earliest, latest or offset")
    if (body.topic !== undefined && typeof body.topic !== "string") return yield* badField("topic", "a topic name")
    if (body.to === "offset" && (typeof body.offset !== "number" || !Number.isSafeInteger(body.offset) || body.offset < 0)) {
      return yield* new ConsoleError({ status: 400, error: "offset: a non-negative integer is required with to=offset" })
    }
    const image = yield* (yield* ClusterMetadata).image
    const current = yield* groupOffsets(groupId)
    const topicNames = body.topic !== undefined ? [body.topic] : [...new Set(current.map((o) => o.topic))]
    const targets: Array<{ name: string; partitions: Array<{ partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; commitTimestamp: number; committedMetadata: string | null }> }> = []
    for (const t of topicNames) {
      const info = image.topics.get(t)
      if (info === undefined) return yield* notFound(`topic ${t}`)
      const states = yield* partitionsOf(info)
      targets.push({
        name: t,
        partitions: states.map((p) => ({
          partitionIndex: p.partition,
          committedOffset: body.to === "earliest"
            ? p.logStartOffset
            : body.to === "latest"
            ? p.logEndOffset
            : Math.min(Math.max(body.offset!, p.logStartOffset), p.logEndOffset),
          committedLeaderEpoch: -1,
          commitTimestamp: -1,
          committedMetadata: ""
        }))
      })
    }
    const answer = yield* call(OffsetCommit.make, 8, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: targets
    }, connection)
    for (const t of answer.topics) {
      for (const p of t.partitions) if (p.errorCode !== 0) return yield* kafkaError(p.errorCode, `${t.name}-${p.partitionIndex}: error ${p.errorCode}`)
    }
  })
