// Produce v0-v11, message format v2 only (v0-v2 requests are served so that librdkafka 2.0 enables
// compression; their v0/v1 message sets are refused with 43). Each partition's append is a typed effect whose
// failures are tagged errors mapped to that partition's error code: unknown topic or partition → 3, a batch
// over the topic's `max.message.bytes` (default `message.max.bytes`) → 10, a bad CRC or a malformed batch → 2,
// more than one batch or an inconsistent record count → 87. A failing partition never fails its siblings.
//
// Records are validated as Kafka's LogValidator does, in one pass over the batch (protocol/RecordValidation.ts;
// compressed batches are decompressed for it): a record whose lengths or varints do not hold together, or a
// record count the batch does not hold → 87; per record, an offset delta out of sequence or a missing key on a
// compacted topic → 87, a CreateTime timestamp outside `message.timestamp.before.max.ms` / `after.max.ms` →
// 32, each named in `record_errors` (v8+). Under `message.timestamp.type=LogAppendTime` the
// batch takes the broker's clock, answered in `log_append_time_ms`. The stored bytes are the produced ones with
// base offset, leader epoch and (when validation corrected it) max timestamp patched in.
//
// acks=0 gets no response; acks other than -1, 0, 1 → 21 for every partition. Produce requests of one
// connection run one after another, in the order they were sent (Connection.ts). Idempotent producers (a
// producer id in the batch): a producer id without a sequence → 87; the log store checks epoch and sequence
// under the partition lock: a retry of one of the last five batches succeeds with the original's base offset
// and is not written again, a sequence that does not follow on → 45, an epoch older than the partition has seen
// → 47. A file-system failure → 56. Transactional batches are accepted only for a partition the transaction
// coordinator has in the producer's open transaction, with its current epoch: else 48 (not added, or no
// transactional id in the request), 47 (fenced), 49 (not the id's producer), 19 (the transaction is
// completing: retry); a non-transactional batch from a producer inside a transaction → 48.
//
// Client quotas: the request's record batch bytes count against the client's `producer_byte_rate`
// (services/quota); above it the answer carries `throttle_time_ms` and the connection is muted that long.
import { Clock, Effect, Result } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { Produce } from "../../protocol/messages/Produce.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { type BatchHeader, isProblem, setPartitionLeaderEpoch, TRANSACTIONAL, validateProduced } from "../../protocol/RecordBatch.ts"
import { type RecordRules, validateRecords } from "../../protocol/RecordValidation.ts"
import { effectiveConfig } from "../config/DynamicConfigs.ts"
import { BrokerMetrics } from "../metrics/BrokerStats.ts"
import { Cluster, nodeOf } from "../cluster/Cluster.ts"
import { notLeader } from "./lookup.ts"
import { BrokerConfig, type BrokerConfigShape } from "../config/BrokerConfig.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { type MetadataImage } from "../metadata/MetadataImage.ts"
import {
  CorruptMessage,
  InvalidRecord,
  InvalidTimestamp,
  InvalidTxnState,
  MessageTooLarge,
  type TxnError,
  UnknownTopicOrPartition,
  UnsupportedForMessageFormat
} from "../Errors.ts"
import { ClientQuotas, quotaClient } from "../quota/ClientQuotas.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { TransactionCoordinator } from "../txn/TransactionCoordinator.ts"
import { handler, NoResponse } from "./Handler.ts"
import { type Append, type AppendError, LogStore } from "../log/LogStore.ts"
import { topicSetting } from "../metadata/TopicConfigs.ts"

type PartitionResponse = ResponseOf<typeof Produce>["responses"][number]["partitionResponses"][number]

type Rejection = UnknownTopicOrPartition | InvalidRecord | InvalidTimestamp | MessageTooLarge | CorruptMessage | UnsupportedForMessageFormat

/** A transaction's refusals as Produce answers them (Kafka's translation for produce responses). */
const produceCode = (e: Rejection | AppendError | TxnError): number =>
  e._tag === "ProducerFenced"
    ? ErrorCode.INVALID_PRODUCER_EPOCH
    : e._tag === "ConcurrentTransactions" || e._tag === "CoordinatorLoadInProgress" || e._tag === "NotCoordinator"
    ? ErrorCode.NOT_ENOUGH_REPLICAS
    : e.code

/** The most a compressed batch may decompress to: far above real batches, far below what would hurt the broker. */
const MAX_DECOMPRESSED_BYTES = 128 * 1024 * 1024

type TopicRules = Omit<RecordRules, "now">

/** Each topic's record rules, worked out once per version of its configs. */
const rulesCache = new WeakMap<ReadonlyMap<string, string>, TopicRules>()
const rulesOf = (config: BrokerConfigShape, configs: ReadonlyMap<string, string>): TopicRules => {
  let rules = rulesCache.get(configs)
  if (rules === undefined) {
    rules = {
      logAppendTime: configs.get("message.timestamp.type") === "LogAppendTime",
      timestampBeforeMaxMs: topicSetting(config, configs, "message.timestamp.before.max.ms"),
      timestampAfterMaxMs: topicSetting(config, configs, "message.timestamp.after.max.ms"),
      requireKeys: (configs.get("cleanup.policy") ?? "delete").split(",").some((p) => p.trim() === "compact"),
      maxDecompressedBytes: MAX_DECOMPRESSED_BYTES
    }
    rulesCache.set(configs, rules)
  }
  return rules
}

interface Checked {
  readonly header: BatchHeader
  readonly leaderEpoch: number
  readonly logAppendTime: number
}

/** Checks a partition's batch before anything is written: the batch header if it can be appended, else why not. */
const validate = (
  config: BrokerConfigShape,
  image: MetadataImage,
  now: number,
  topic: string,
  index: number,
  records: Uint8Array | null
): Checked | Rejection => {
  const t = image.topics.get(topic)
  const partition = t?.partitions[index]
  if (t === undefined || partition === undefined) return new UnknownTopicOrPartition({ topic, partition: index })
  if (records === null || records.length === 0) return new InvalidRecord({ detail: "no record batch for the partition" })
  const limit = Number(t.configs.get("max.message.bytes") ?? config.messageMaxBytes)
  if (records.length > limit) return new MessageTooLarge({ size: records.length, limit })
  const header = validateProduced(records)
  if (isProblem(header)) {
    return header.kind === "invalid"
      ? new InvalidRecord({ detail: header.detail })
      : header.kind === "old-format"
      ? new UnsupportedForMessageFormat({ detail: header.detail })
      : new CorruptMessage({ detail: header.detail })
  }
  if (header.producerId >= 0 && header.baseSequence < 0) {
    return new InvalidRecord({ detail: `sequence ${header.baseSequence} in a batch of producer ${header.producerId}` })
  }
  const verdict = validateRecords(records, header, { ...rulesOf(config, t.configs), now })
  if (!verdict.ok) {
    return verdict.kind === "corrupt"
      ? new CorruptMessage({ detail: verdict.detail })
      : verdict.kind === "timestamp"
      ? new InvalidTimestamp({ detail: verdict.detail, recordErrors: verdict.recordErrors })
      : new InvalidRecord({ detail: verdict.detail, recordErrors: verdict.recordErrors })
  }
  return { header: verdict.header, leaderEpoch: partition.leaderEpoch, logAppendTime: verdict.logAppendTime }
}

/** Whether the batch carries a producer id (idempotent or transactional): producerId, an int64 at byte 43, is >= 0. */
const hasProducerId = (records: Uint8Array | null): boolean =>
  records !== null && records.length >= 51 && records[16] === 2 && (records[43]! & 0x80) === 0

const failed = (
  index: number,
  errorCode: number,
  errorMessage: string | null,
  recordErrors: PartitionResponse["recordErrors"] = []
): PartitionResponse => ({
  index,
  errorCode,
  baseOffset: -1,
  logAppendTimeMs: -1,
  logStartOffset: -1,
  recordErrors,
  errorMessage
})

export const make = handler(Produce, "0-11", (request, context) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const store = yield* LogStore
    const stats = yield* BrokerMetrics
    const transactions = yield* TransactionCoordinator
    const image = yield* (yield* ClusterMetadata).image
    const cluster = yield* Cluster.current
    const node = nodeOf(config, context.connection)
    // Dynamic broker configs (message.max.bytes) apply from the next request on.
    const effective = effectiveConfig(config, image)
    const now = yield* Clock.currentTimeMillis
    const validAcks = request.acks === -1 || request.acks === 0 || request.acks === 1
    // Authorization, as Kafka's: a transactional id needs WRITE on it (else 53 everywhere); an idempotent
    // producer without one needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic (else 31 everywhere);
    // each topic needs WRITE (else 29 for its partitions).
    const check = yield* Authorization.current
    let refused = 0
    if (check.enabled) {
      if (request.transactionalId !== null) {
        if (!check.can(context.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
          refused = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        }
      } else if (
        request.topicData.some((t) => t.partitionData.some((p) => hasProducerId(p.records))) &&
        !check.can(context.connection, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_NAME) &&
        !check.canAny(context.connection, AclOperation.WRITE, ResourceType.TOPIC)
      ) {
        refused = ErrorCode.CLUSTER_AUTHORIZATION_FAILED
      }
    }
    let records = 0
    let errors = 0
    /** Record batch bytes sent, whatever became of them: what `producer_byte_rate` counts. */
    let bytes = 0
    // One pass over every partition checks what can be appended and answers what cannot; the store then
    // appends the rest at once (it may write them side by side), and their answers fill their places. No span
    // per partition (a request may name a thousand): the request's span gets the totals.
    const responses: Array<{ name: string; partitionResponses: Array<PartitionResponse> }> = []
    const appends: Array<Append> = []
    const pending: Array<{ readonly answers: Array<PartitionResponse>; readonly slot: number; readonly checked: Checked }> = []
    const refuse = (topic: string, index: number, e: Rejection | AppendError | TxnError) =>
      Effect.gen(function*() {
        errors++
        if (e._tag === "UnknownTopicOrPartition") return failed(index, e.code, null)
        const code = produceCode(e)
        yield* Effect.logWarning(`Produce to ${topic}-${index} rejected (error ${code}): ${e.message}`)
        const recordErrors = "recordErrors" in e && e.recordErrors !== undefined
          ? e.recordErrors.map((r) => ({ batchIndex: r.batchIndex, batchIndexErrorMessage: r.message }))
          : []
        return failed(index, code, e.message, recordErrors)
      })
    for (const topic of request.topicData) {
      const partitionResponses: Array<PartitionResponse> = []
      responses.push({ name: topic.name, partitionResponses })
      const topicRefused = refused !== 0
        ? refused
        : check.enabled && !check.can(context.connection, AclOperation.WRITE, ResourceType.TOPIC, topic.name)
        ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
        : 0
      for (const p of topic.partitionData) {
        bytes += p.records?.length ?? 0
        if (!validAcks) {
          partitionResponses.push(failed(p.index, ErrorCode.INVALID_REQUIRED_ACKS, `acks=${request.acks}`))
          errors++
          continue
        }
        if (topicRefused !== 0) {
          partitionResponses.push(failed(p.index, topicRefused, null))
          errors++
          continue
        }
        if (notLeader(cluster, node, image.topics.get(topic.name)?.partitions[p.index])) {
          partitionResponses.push(failed(p.index, ErrorCode.NOT_LEADER_OR_FOLLOWER, `broker ${node} is not the leader of ${topic.name}-${p.index}`))
          errors++
          continue
        }
        const checked = validate(effective, image, now, topic.name, p.index, p.records)
        if (!("header" in checked)) {
          partitionResponses.push(yield* refuse(topic.name, p.index, checked))
          continue
        }
        const tp = { topic: topic.name, partition: p.index }
        const { header } = checked
        // A transactional batch goes only where its transaction is.
        if ((header.attributes & TRANSACTIONAL) !== 0) {
          const allowed = yield* Effect.result(
            request.transactionalId === null
              ? Effect.fail(new InvalidTxnState({ detail: `a transactional batch of producer ${header.producerId} without a transactional id` }))
              : transactions.verify(request.transactionalId, { producerId: header.producerId, producerEpoch: header.producerEpoch }, tp)
          )
          if (Result.isFailure(allowed)) {
            partitionResponses.push(yield* refuse(topic.name, p.index, allowed.failure))
            continue
          }
        }
        setPartitionLeaderEpoch(p.records!, 0, checked.leaderEpoch)
        appends.push({ tp, batch: p.records!, header })
        pending.push({ answers: partitionResponses, slot: partitionResponses.length, checked })
        partitionResponses.push(failed(p.index, ErrorCode.NONE, null)) // its place, filled once appended
      }
    }
    const results = appends.length === 0 ? [] : yield* store.appendAll(appends)
    for (let i = 0; i < results.length; i++) {
      const result = results[i]!
      const { tp, batch } = appends[i]!
      const { answers, slot, checked: { header, logAppendTime } } = pending[i]!
      if (Result.isFailure(result)) {
        answers[slot] = yield* refuse(tp.topic, tp.partition, result.failure)
        continue
      }
      const r = result.success
      records += header.recordCount
      if (r.duplicate) {
        yield* Effect.logDebug(
          `Produce to ${tp.topic}-${tp.partition}: producer ${header.producerId} sequence ${header.baseSequence} is a retry of the batch at offset ${r.baseOffset}; not written again`
        )
      } else {
        stats.produced(tp.topic, header.recordCount, batch.byteLength)
      }
      answers[slot] = {
        index: tp.partition,
        errorCode: ErrorCode.NONE,
        baseOffset: r.baseOffset,
        logAppendTimeMs: logAppendTime,
        logStartOffset: r.logStartOffset,
        recordErrors: [],
        errorMessage: null
      }
    }
    yield* Effect.annotateCurrentSpan({ "kafka.records": records, "kafka.errors": errors })
    const throttleTimeMs = yield* (yield* ClientQuotas).record("produce", quotaClient(context.clientId, context.connection.principal), bytes)
    if (request.acks === 0) {
      // No answer carries the throttle: the connection is muted all the same.
      if (throttleTimeMs > 0) context.mute?.((yield* Clock.currentTimeMillis) + throttleTimeMs)
      return NoResponse
    }
    // Above its quota, a client is answered at once with the time to back off; the connection then reads nothing
    // more from it for that long (Connection.ts), as Kafka mutes a throttled channel.
    return { responses, throttleTimeMs }
  }))
