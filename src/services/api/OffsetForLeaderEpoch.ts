// OffsetForLeaderEpoch v2-v4: the end offset of a leader epoch, which consumers ask to detect a log truncated
// under them. This node is every partition's only leader, so a partition's log holds one leader epoch, the
// current one from the metadata (Produce stamps it on every batch), starting at the log start offset. As Kafka's
// LeaderEpochFileCache answers from such a cache: the current epoch → the log end offset; an older epoch → that
// epoch with the start offset of the current one; a newer epoch, or -1 → epoch and offset -1 (no error).
// `current_leader_epoch` (-1: no check) other than the partition's → FENCED_LEADER_EPOCH (74) when older,
// UNKNOWN_LEADER_EPOCH (75) when newer. Unknown topic or partition → 3.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { OffsetForLeaderEpoch } from "../../protocol/messages/OffsetForLeaderEpoch.ts"
import { LogStore } from "../log/LogStore.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { handler } from "./Handler.ts"
import { lookupLedPartition } from "./lookup.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { Cluster, nodeOf } from "../cluster/Cluster.ts"

/** No epoch, no offset: Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET. */
const UNDEFINED = -1

/**
 * Kafka's LeaderEpochFileCache.endOffsetFor over a cache of one entry (`epoch` from `startOffset`): what a
 * request for `requested` answers.
 */
export const endOffsetFor = (
  requested: number,
  epoch: number,
  startOffset: number,
  logEndOffset: number
): { readonly leaderEpoch: number; readonly endOffset: number } =>
  requested === UNDEFINED || requested > epoch
    ? { leaderEpoch: UNDEFINED, endOffset: UNDEFINED }
    : requested === epoch
    ? { leaderEpoch: epoch, endOffset: logEndOffset }
    : { leaderEpoch: requested, endOffset: startOffset }

export const make = handler(OffsetForLeaderEpoch, "2-4", (request, context) =>
  Effect.gen(function*() {
    const store = yield* LogStore
    const image = yield* (yield* ClusterMetadata).image
    const cluster = yield* Cluster.current
    const node = nodeOf(yield* BrokerConfig, context.connection)
    const topics = yield* Effect.forEach(request.topics, (topic) =>
      Effect.map(
        Effect.forEach(topic.partitions, (p) =>
          Effect.gen(function*() {
            const { partition: info } = yield* lookupLedPartition(image, topic.topic, p.partition, cluster, node)
            const current = p.currentLeaderEpoch
            if (current !== UNDEFINED && current !== info.leaderEpoch) {
              const errorCode = current < info.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH
              return { errorCode, partition: p.partition, leaderEpoch: UNDEFINED, endOffset: UNDEFINED }
            }
            const offsets = yield* store.offsets({ topic: topic.topic, partition: p.partition })
            const found = endOffsetFor(p.leaderEpoch, info.leaderEpoch, offsets.logStartOffset, offsets.logEndOffset)
            return { errorCode: ErrorCode.NONE as number, partition: p.partition, ...found }
          }).pipe(
            Effect.catch((e) => {
              const answer = Effect.succeed({ errorCode: e.code as number, partition: p.partition, leaderEpoch: UNDEFINED, endOffset: UNDEFINED })
              return e._tag === "StorageError" ? Effect.andThen(Effect.logError(e.message), answer) : answer
            })
          )),
        (partitions) => ({ topic: topic.topic, partitions })
      ))
    return { throttleTimeMs: 0, topics }
  }))
