// Fetch v4-v17 (topic names up to v12, topic ids from v13; v17's replica directory is for followers). Records are the stored batches, byte for byte,
// starting with the one that holds `fetch_offset` (the client skips the records before it); read_committed
// (isolation level 1) only those below the last stable offset, with the aborted transactions among them
// (producer id, first offset) for the client to drop; `last_stable_offset` is answered at both levels. Bounded by
// `partition_max_bytes` and the response's `max_bytes`, except that the first partition with data always gets at
// least one whole batch, as in Kafka. Unknown topic name → 3, unknown topic id → 100, an offset outside the log →
// 1. When fewer than `min_bytes` are ready the request waits up to `max_wait_ms` and returns as soon as one of its
// partitions is appended to. Fetch sessions are declined (session id 0): clients then send full fetches.
// Large answers hold where their records lie in the log, not the records: they are read as the answer is
// written (services/Connection.ts). Negative byte limits read as 0 (the first partition still gets a batch).
// Client quotas: the records answered count against the client's `consumer_byte_rate` (services/quota); above it
// the answer is empty but for `throttle_time_ms`, and the connection is muted that long, as in Kafka.
import { Clock, Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { Fetch } from "../../protocol/messages/Fetch.ts"
import type { RequestOf, ResponseOf } from "../../protocol/Message.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { type MetadataImage, type TopicInfo } from "../metadata/MetadataImage.ts"
import { UnknownTopicId, UnknownTopicOrPartition } from "../Errors.ts"
import { handler } from "./Handler.ts"
import { LogStore, type ReadResult, type SeenEnd } from "../log/LogStore.ts"
import { ClientQuotas, quotaClient } from "../quota/ClientQuotas.ts"
import { Authorization } from "../auth/Authorization.ts"
import { BrokerMetrics } from "../metrics/BrokerStats.ts"
import { Cluster, nodeOf } from "../cluster/Cluster.ts"
import { notLeader } from "./lookup.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

type Request = RequestOf<typeof Fetch>
type Response = ResponseOf<typeof Fetch>
type PartitionResponse = Response["responses"][number]["partitions"][number]

const READ_COMMITTED = 1

const refusedPartition = (partitionIndex: number): PartitionResponse => ({
  partitionIndex,
  errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  highWatermark: -1,
  lastStableOffset: -1,
  logStartOffset: -1,
  abortedTransactions: null,
  preferredReadReplica: -1,
  records: new Uint8Array(0)
})

type ReadError = Effect.Error<ReturnType<LogStore["Service"]["read"]>>

interface Pass {
  readonly response: Response
  readonly bytes: number
  readonly failed: boolean
  /** The partitions read without error, with the log end each had. */
  readonly seen: ReadonlyArray<SeenEnd>
}

export const make = handler(Fetch, "4-17", (request, context) =>
  Effect.gen(function*() {
    const store = yield* LogStore
    const stats = yield* BrokerMetrics
    const metadata = yield* ClusterMetadata
    const cluster = yield* Cluster.current
    const node = nodeOf(yield* BrokerConfig, context.connection)

    // Epoch -1 (no session) and 0 (open one) are full fetches, served without a session; any other epoch
    // continues a session this broker never created.
    if (request.sessionEpoch !== -1 && request.sessionEpoch !== 0) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] }
    }

    const byId = context.apiVersion >= 13
    // Under a `consumer_byte_rate` quota, no more than a quiet window's worth is read at once: more would be
    // throttled for sure (Kafka caps max_bytes so too).
    const quotas = yield* ClientQuotas
    const client = quotaClient(context.clientId, context.connection.principal)
    const maxBytes = Math.min(request.maxBytes, Math.floor(yield* quotas.maxBytesInWindow("fetch", client)))
    const minBytes = Math.min(request.minBytes, maxBytes)
    const readCommitted = request.isolationLevel === READ_COMMITTED
    // Each topic needs READ (else 29 for its partitions); an unknown topic id stays 100.
    const check = yield* Authorization.current

    /** Reads every requested partition once, within the byte budgets. */
    const pass = (image: MetadataImage): Effect.Effect<Pass> =>
      Effect.gen(function*() {
        // Negative limits (nonsense on the wire) read as 0: the first partition still gets a whole batch.
      let budget = Math.max(0, maxBytes)
        let bytes = 0
        let failed = false
        const seen: Array<SeenEnd> = []
        const responses: Response["responses"] = []
        for (const topic of request.topics) {
          const info: TopicInfo | undefined = byId ? image.topicsById.get(topic.topicId) : image.topics.get(topic.topic)
          const out: Array<PartitionResponse> = []
          const name = info?.name ?? topic.topic
          const refused = check.enabled && !(byId && info === undefined) &&
            !check.can(context.connection, AclOperation.READ, ResourceType.TOPIC, name)
          for (const p of topic.partitions) {
            if (refused) {
              failed = true
              out.push(refusedPartition(p.partition))
              continue
            }
            const result = yield* readPartition(info, topic, p, budget, bytes === 0)
            if (result.errorCode !== ErrorCode.NONE) failed = true
            else seen.push({ topic: info!.name, partition: p.partition, logEndOffset: result.highWatermark })
            const size = result.records?.length ?? 0
            bytes += size
            budget = Math.max(0, budget - size)
            out.push(result)
          }
          responses.push({ topic: topic.topic, topicId: topic.topicId, partitions: out })
        }
        return { response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses }, bytes, failed, seen }
      })

    const readPartition = (
      info: TopicInfo | undefined,
      topic: Request["topics"][number],
      p: Request["topics"][number]["partitions"][number],
      budget: number,
      first: boolean
    ): Effect.Effect<PartitionResponse> => {
      const failed = (errorCode: number, logStartOffset = -1, highWatermark = -1): PartitionResponse => ({
        partitionIndex: p.partition,
        errorCode,
        highWatermark,
        lastStableOffset: highWatermark,
        logStartOffset,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: new Uint8Array(0)
      })
      if (notLeader(cluster, node, info?.partitions[p.partition])) return Effect.succeed(failed(ErrorCode.NOT_LEADER_OR_FOLLOWER))
      const read: Effect.Effect<ReadResult, ReadError | UnknownTopicId> = info === undefined || info.partitions[p.partition] === undefined
        ? Effect.fail(
          byId && info === undefined
            ? new UnknownTopicId({ topicId: topic.topicId })
            : new UnknownTopicOrPartition({ topic: topic.topic, partition: p.partition })
        )
        : store.read(
          { topic: info.name, partition: p.partition },
          p.fetchOffset,
          Math.max(0, Math.min(p.partitionMaxBytes, budget)),
          first,
          readCommitted ? "committed" : "uncommitted"
        )
      return read.pipe(
        Effect.map((r): PartitionResponse => ({
          partitionIndex: p.partition,
          errorCode: ErrorCode.NONE,
          highWatermark: r.logEndOffset,
          lastStableOffset: r.lastStableOffset,
          logStartOffset: r.logStartOffset,
          abortedTransactions: readCommitted ? [...r.abortedTransactions] : null,
          preferredReadReplica: -1,
          records: r.records
        })),
        // Each failure is this partition's error code (an unknown topic or partition: also one deleted while
        // this fetch read it); a storage failure is logged too.
        Effect.catch((e) =>
          e._tag === "OffsetOutOfRange"
            ? Effect.succeed(failed(e.code, e.logStartOffset, e.logEndOffset))
            : e._tag === "StorageError"
            ? Effect.as(Effect.logError(e.message), failed(e.code))
            : Effect.succeed(failed(e.code))
        )
      )
    }

    const deadline = (yield* Clock.currentTimeMillis) + Math.max(0, request.maxWaitMs)
    for (;;) {
      const image = yield* metadata.image
      const result = yield* pass(image)
      const now = yield* Clock.currentTimeMillis
      if (
        result.bytes >= minBytes || result.failed || result.seen.length === 0 || now >= deadline
      ) {
        // Above its quota, the client gets no records, only the time to back off, and the connection is muted that
        // long (Connection.ts); the bytes it did not get do not count.
        const throttleTimeMs = yield* quotas.record("fetch", client, result.bytes)
        if (throttleTimeMs === 0) {
          for (const t of result.response.responses) {
            const name = t.topic !== "" ? t.topic : image.topicsById.get(t.topicId)?.name
            if (name === undefined) continue
            let bytes = 0
            for (const p of t.partitions) bytes += p.records === null ? 0 : p.records.length
            stats.fetched(name, bytes)
          }
          return result.response
        }
        yield* quotas.unrecord("fetch", client, result.bytes)
        return { throttleTimeMs, errorCode: ErrorCode.NONE, sessionId: 0, responses: [] }
      }
      yield* store.awaitAppend(result.seen, deadline - now)
    }
  }), { waits: (request) => request.maxWaitMs > 0 })
