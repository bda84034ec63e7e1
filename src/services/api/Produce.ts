// Produce v3-v11 (message format v2 only). Each partition's append is a typed effect whose failures are tagged
// errors mapped to that partition's error code: unknown topic or partition → 3, a batch over
// `message.max.bytes` → 10, a bad CRC or a malformed batch → 2, more than one batch or an inconsistent record
// count → 87. A failing partition never fails its siblings. The broker reads only batch headers, never
// records, and stores the produced bytes with their base offset and leader epoch patched in. acks=0 gets
// no response; acks other than -1, 0, 1 → 21 for every partition.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { Produce } from "../../protocol/messages/Produce.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { isProblem, setPartitionLeaderEpoch, validateProduced } from "../../protocol/RecordBatch.ts"
import { BrokerConfig } from "../BrokerConfig.ts"
import { ClusterMetadata, type MetadataImage } from "../ClusterMetadata.ts"
import { CorruptMessage, InvalidRecord, MessageTooLarge } from "../Errors.ts"
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

      const append = Effect.fn("Produce.partition")(function*(topic: string, index: number, records: Uint8Array | null) {
        yield* Effect.annotateCurrentSpan({ topic, partition: index })
        const { partition } = yield* lookupPartition(image, topic, index)
        if (records === null || records.length === 0) {
          return yield* new InvalidRecord({ detail: "no record batch for the partition" })
        }
        if (records.length > config.messageMaxBytes) {
          return yield* new MessageTooLarge({ size: records.length, limit: config.messageMaxBytes })
        }
        const header = validateProduced(records)
        if (isProblem(header)) {
          return yield* header.kind === "invalid"
            ? new InvalidRecord({ detail: header.detail })
            : new CorruptMessage({ detail: header.detail })
        }
        setPartitionLeaderEpoch(records, 0, partition.leaderEpoch)
        const result = yield* store.append({ topic, partition: index }, records, header)
        yield* Effect.annotateCurrentSpan({ baseOffset: result.baseOffset, records: header.recordCount })
        return result
      })

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

      if (request.acks === 0) return NoResponse
      return { responses, throttleTimeMs: 0 }
    }),
  { ordered: true }
)

