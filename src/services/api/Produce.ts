// Produce v0-v11, message format v2 only (v0-v2 requests are served so that librdkafka 2.0 enables
// compression; their v0/v1 message sets are refused with 43). Each partition's append is a typed effect whose
// failures are tagged errors mapped to that partition's error code: unknown topic or partition → 3, a batch
// over the topic's `max.message.bytes` (default `message.max.bytes`) → 10, a bad CRC or a malformed batch → 2,
// more than one batch or an inconsistent record count → 87. A failing partition never fails its siblings. The
// broker reads only batch headers, never records, and stores the produced bytes with their base offset and
// leader epoch patched in. acks=0 gets no response; acks other than -1, 0, 1 → 21 for every partition.
// Produce requests of one connection run one after another, in the order they were sent (Connection.ts).
// Idempotent producers (a producer id in the batch): a producer id without a sequence → 87; the log store
// checks epoch and sequence under the partition lock: a retry of one of the last five batches succeeds with
// the original's base offset and is not written again, a sequence that does not follow on → 45, an epoch
// older than the partition has seen → 47.
import { Effect, Result } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { Produce } from "../../protocol/messages/Produce.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { type BatchHeader, isProblem, setPartitionLeaderEpoch, validateProduced } from "../../protocol/RecordBatch.ts"
import { BrokerConfig } from "../BrokerConfig.ts"
import { ClusterMetadata, type MetadataImage } from "../ClusterMetadata.ts"
import { CorruptMessage, InvalidRecord, MessageTooLarge, UnknownTopicOrPartition, UnsupportedForMessageFormat } from "../Errors.ts"
import { handler, NoResponse } from "../Handler.ts"
import { type AppendResult, LogStore } from "../LogStore.ts"

type PartitionResponse = ResponseOf<typeof Produce>["responses"][number]["partitionResponses"][number]

type Rejection = UnknownTopicOrPartition | InvalidRecord | MessageTooLarge | CorruptMessage | UnsupportedForMessageFormat
type AppendError = Effect.Error<ReturnType<LogStore["Service"]["append"]>>

/** Checks a partition's batch before anything is written: the batch header if it can be appended, else why not. */
const validate = (
  image: MetadataImage,
  messageMaxBytes: number,
  topic: string,
  index: number,
  records: Uint8Array | null
): { readonly header: BatchHeader; readonly leaderEpoch: number } | Rejection => {
  const t = image.topics.get(topic)
  const partition = t?.partitions[index]
  if (t === undefined || partition === undefined) return new UnknownTopicOrPartition({ topic, partition: index })
  if (records === null || records.length === 0) return new InvalidRecord({ detail: "no record batch for the partition" })
  const limit = Number(t.configs.get("max.message.bytes") ?? messageMaxBytes)
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
  return { header, leaderEpoch: partition.leaderEpoch }
}

const failed = (index: number, errorCode: number, errorMessage: string | null): PartitionResponse => ({
  index,
  errorCode,
  baseOffset: -1,
  logAppendTimeMs: -1,
  logStartOffset: -1,
  recordErrors: [],
  errorMessage
})

export const make = handler(Produce, (request) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const store = yield* LogStore
    const image = yield* (yield* ClusterMetadata).image
    const validAcks = request.acks === -1 || request.acks === 0 || request.acks === 1
    let records = 0
    let errors = 0
    // One loop over every partition, and no span per partition (a request may name a thousand): the
    // request's span gets the totals.
    const responses: Array<{ name: string; partitionResponses: Array<PartitionResponse> }> = []
    for (const topic of request.topicData) {
      const partitionResponses: Array<PartitionResponse> = []
      responses.push({ name: topic.name, partitionResponses })
      for (const p of topic.partitionData) {
        if (!validAcks) {
          partitionResponses.push(failed(p.index, ErrorCode.INVALID_REQUIRED_ACKS, `acks=${request.acks}`))
          errors++
          continue
        }
        const checked = validate(image, config.messageMaxBytes, topic.name, p.index, p.records)
        let result: Result.Result<AppendResult, Rejection | AppendError>
        if ("header" in checked) {
          setPartitionLeaderEpoch(p.records!, 0, checked.leaderEpoch)
          result = yield* Effect.result(store.append({ topic: topic.name, partition: p.index }, p.records!, checked.header))
        } else {
          result = Result.fail(checked)
        }
        if (Result.isSuccess(result)) {
          const r = result.success
          const { header } = checked as { readonly header: BatchHeader }
          records += header.recordCount
          if (r.duplicate) {
            yield* Effect.logDebug(
              `Produce to ${topic.name}-${p.index}: producer ${header.producerId} sequence ${header.baseSequence} is a retry of the batch at offset ${r.baseOffset}; not written again`
            )
          }
          partitionResponses.push({
            index: p.index,
            errorCode: ErrorCode.NONE,
            baseOffset: r.baseOffset,
            logAppendTimeMs: -1,
            logStartOffset: r.logStartOffset,
            recordErrors: [],
            errorMessage: null
          })
          continue
        }
        const e = result.failure
        errors++
        if (e._tag === "UnknownTopicOrPartition") {
          partitionResponses.push(failed(p.index, e.code, null))
        } else {
          yield* Effect.logWarning(`Produce to ${topic.name}-${p.index} rejected (error ${e.code}): ${e.message}`)
          partitionResponses.push(failed(p.index, e.code, e.message))
        }
      }
    }
    yield* Effect.annotateCurrentSpan({ "kafka.records": records, "kafka.errors": errors })
    if (request.acks === 0) return NoResponse
    return { responses, throttleTimeMs: 0 }
  }))
