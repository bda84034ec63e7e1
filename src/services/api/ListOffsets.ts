// ListOffsets v0-v10. Timestamp -2 (earliest) and -4 (earliest local, v8) answer the log start offset, -5 (latest
// tiered, v9) -1 as there is no tiered storage, v10's timeout has nothing to wait for; -1
// (latest) the high watermark (the log end: one replica), or read_committed (v2+) the last stable offset, -3 (max
// timestamp, v7+) the record with the largest timestamp, and a real timestamp the first record at or after it
// (read_committed: only below the last stable offset).
// v0 answers in `old_style_offsets`. Unknown topic or partition → 3 with offset and timestamp -1.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ListOffsets } from "../../protocol/messages/ListOffsets.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { type PartitionInfo } from "../metadata/MetadataImage.ts"
import { InvalidRequest } from "../Errors.ts"
import { handler } from "./Handler.ts"
import { LogStore, type TimestampLookup } from "../log/LogStore.ts"
import { lookupPartition, notLeader } from "./lookup.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { Cluster, nodeOf } from "../cluster/Cluster.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

type PartitionResponse = ResponseOf<typeof ListOffsets>["topics"][number]["partitions"][number]

const LATEST = -1
const EARLIEST = -2
const MAX_TIMESTAMP = -3
const EARLIEST_LOCAL = -4
const LATEST_TIERED = -5

const FENCED_LEADER_EPOCH = 74

export const make = handler(ListOffsets, "0-10", (request, context) =>
  Effect.gen(function*() {
    const store = yield* LogStore
    const image = yield* (yield* ClusterMetadata).image
    const version = context.apiVersion
    const readCommitted = version >= 2 && request.isolationLevel === 1
    const check = yield* Authorization.current

    const lookup = Effect.fn("ListOffsets.partition")(function*(topic: string, partition: number, timestamp: number) {
      const tp = { topic, partition }
      const { partition: info } = yield* lookupPartition(image, topic, partition)
      const offsets = yield* store.offsets(tp)
      const epoch = info.leaderEpoch
      const at = (offset: number, ts = -1): TimestampLookup & { epoch: number } => ({ offset, timestamp: ts, epoch })
      switch (timestamp) {
        case LATEST:
          return at(readCommitted ? offsets.lastStableOffset : offsets.logEndOffset)
        case EARLIEST:
          return at(offsets.logStartOffset)
        case EARLIEST_LOCAL:
          if (version < 8) break
          return at(offsets.logStartOffset)
        case LATEST_TIERED:
          // KIP-1005: nothing is tiered here, so there is no tiered offset (as Kafka answers without remote storage).
          if (version < 9) break
          return at(-1)
        case MAX_TIMESTAMP:
          if (version < 7) break
          return yield* Effect.map(store.offsetForTimestamp(tp, MAX_TIMESTAMP), (r) => r === undefined ? at(-1) : at(r.offset, r.timestamp))
      }
      if (timestamp < 0) return yield* new InvalidRequest({ detail: `timestamp ${timestamp} in ListOffsets v${version}` })
      const record = yield* store.offsetForTimestamp(tp, timestamp)
      // read_committed finds only what it may read: below the last stable offset.
      const visible = record !== undefined && (!readCommitted || record.offset < offsets.lastStableOffset)
      return visible ? at(record.offset, record.timestamp) : { offset: -1, timestamp: -1, epoch: -1 }
    })

    const cluster = yield* Cluster.current
    const node = nodeOf(yield* BrokerConfig, context.connection)
    /** A client that names a leader epoch must name the current one (-1: no check). */
    const leaderEpochError = (current: number, info: PartitionInfo | undefined) =>
      info !== undefined && current >= 0 && current !== info.leaderEpoch
        ? current > info.leaderEpoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : FENCED_LEADER_EPOCH
        : undefined

    const topics = yield* Effect.forEach(request.topics, (topic) =>
      Effect.map(
        Effect.forEach(topic.partitions, (p): Effect.Effect<PartitionResponse> => {
          const epochError = leaderEpochError(p.currentLeaderEpoch, image.topics.get(topic.name)?.partitions[p.partitionIndex])
          const failed = (errorCode: number): PartitionResponse => ({
            partitionIndex: p.partitionIndex,
            errorCode,
            oldStyleOffsets: [],
            timestamp: -1,
            offset: -1,
            leaderEpoch: -1
          })
          if (check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name)) {
            return Effect.succeed(failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED))
          }
          if (epochError !== undefined) return Effect.succeed(failed(epochError))
          if (notLeader(cluster, node, image.topics.get(topic.name)?.partitions[p.partitionIndex])) {
            return Effect.succeed(failed(ErrorCode.NOT_LEADER_OR_FOLLOWER))
          }
          return lookup(topic.name, p.partitionIndex, p.timestamp).pipe(
            Effect.map((found) => ({
              partitionIndex: p.partitionIndex,
              errorCode: ErrorCode.NONE,
              oldStyleOffsets: found.offset >= 0 && p.maxNumOffsets > 0 ? [found.offset] : [],
              timestamp: found.timestamp,
              offset: found.offset,
              leaderEpoch: found.epoch
            })),
            Effect.catch((e) => Effect.succeed(failed(e.code)))
          )
        }),
        (partitions) => ({ name: topic.name, partitions })
      ))

    return { throttleTimeMs: 0, topics }
  }))
