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
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { Produce } from "../../protocol/messages/Produce.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { isProblem, setPartitionLeaderEpoch, validateProduced } from "../../protocol/RecordBatch.ts"
import { BrokerConfig } from "../BrokerConfig.ts"
import { ClusterMetadata, type MetadataImage } from "../ClusterMetadata.ts"
import { CorruptMessage, InvalidRecord, MessageTooLarge, UnsupportedForMessageFormat } from "../Errors.ts"
import { handler, NoResponse } from "../Handler.ts"
import { LogStore } from "../LogStore.ts"
import { lookupPartition } from "./lookup.ts"

type PartitionResponse = ResponseOf<typeof Produce>["responses"][number]["partitionResponses"][number]

export const make = handler(
  Produce,
  (request) =>
    Effect.gen(function*() {
      const config = yield* BrokerConfig
      const store = yield* LogStore
      const image: MetadataImage = yield* (yield* ClusterMetadata).image

      // Per partition no span of its own (a request may name a thousand): the request's span gets the totals.
      const append = Effect.fnUntraced(function*(topic: string, index: number, records: Uint8Array | null) {
        const found = yield* lookupPartition(image, topic, index)
        if (records === null || records.length === 0) {
          return yield* new InvalidRecord({ detail: "no record batch for the partition" })
        }
        const limit = Number(found.topic.configs.get("max.message.bytes") ?? config.messageMaxBytes)
        if (records.length > limit) return yield* new MessageTooLarge({ size: records.length, limit })
        const header = validateProduced(records)
        if (isProblem(header)) {
          return yield* header.kind === "invalid"
            ? new InvalidRecord({ detail: header.detail })
            : header.kind === "old-format"
            ? new UnsupportedForMessageFormat({ detail: header.detail })
            : new CorruptMessage({ detail: header.detail })
        }
        if (header.producerId >= 0 && header.baseSequence < 0) {
          return yield* new InvalidRecord({
            detail: `sequence ${header.baseSequence} in a batch of producer ${header.producerId}`
          })
        }
        setPartitionLeaderEpoch(records, 0, found.partition.leaderEpoch)
        const result = yield* store.append({ topic, partition: index }, records, header)
        appended += header.recordCount
        if (result.duplicate) {
          yield* Effect.logDebug(
            `Produce to ${topic}-${index}: producer ${header.producerId} epoch ${header.producerEpoch} sequence ${header.baseSequence} is a retry of the batch at offset ${result.baseOffset}; not written again`
          )
        }
        return result
      })

      let appended = 0
      const validAcks = request.acks === -1 || request.acks === 0 || request.acks === 1
      const responses = yield* Effect.forEach(request.topicData, (topic) =>
        Effect.map(
          Effect.forEach(topic.partitionData, (p): Effect.Effect<PartitionResponse> => {
            const failed = (errorCode: number, errorMessage: string | null): PartitionResponse => ({
              index: p.index,
              errorCode,
              baseOffset: -1,
              logAppendTimeMs: -1,
              logStartOffset: -1,
              recordErrors: [],
              errorMessage
            })
            if (!validAcks) return Effect.succeed(failed(ErrorCode.INVALID_REQUIRED_ACKS, `acks=${request.acks}`))
            return append(topic.name, p.index, p.records).pipe(
              Effect.map((r) => ({
                index: p.index,
                errorCode: ErrorCode.NONE,
                baseOffset: r.baseOffset,
                logAppendTimeMs: -1,
                logStartOffset: r.logStartOffset,
                recordErrors: [],
                errorMessage: null
              })),
              Effect.catchTag("UnknownTopicOrPartition", (e) => Effect.succeed(failed(e.code, null))),
              Effect.catch((e) =>
                Effect.as(
                  Effect.logWarning(`Produce to ${topic.name}-${p.index} rejected (error ${e.code}): ${e.message}`),
                  failed(e.code, e.message)
                )
              )
            )
          }),
          (partitionResponses) => ({ name: topic.name, partitionResponses })
        ))

      yield* Effect.annotateCurrentSpan({
        "kafka.partitions": responses.reduce((n, t) => n + t.partitionResponses.length, 0),
        "kafka.records": appended,
        "kafka.errors": responses.reduce((n, t) => n + t.partitionResponses.filter((p) => p.errorCode !== 0).length, 0)
      })
      if (request.acks === 0) return NoResponse
      return { responses, throttleTimeMs: 0 }
    })
)

