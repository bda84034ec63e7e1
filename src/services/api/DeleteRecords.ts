// DeleteRecords v0-v2: moves each partition's log start offset up to the requested offset (-1: the high
// watermark), deleting the segments wholly below it; answers the new low watermark. Fetching below it is then
// OFFSET_OUT_OF_RANGE. Beyond the high watermark → 1; unknown topic or partition → 3.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DeleteRecords } from "../../protocol/messages/DeleteRecords.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { handler } from "./Handler.ts"
import { LogStore } from "../log/LogStore.ts"
import { lookupLedPartition } from "./lookup.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { Cluster, nodeOf } from "../cluster/Cluster.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(DeleteRecords, "0-2", (request, context) =>
  Effect.gen(function*() {
    // DELETE on each topic, else 29 for its partitions.
    const check = yield* Authorization.current
    const store = yield* LogStore
    const image = yield* (yield* ClusterMetadata).image
    const cluster = yield* Cluster.current
    const node = nodeOf(yield* BrokerConfig, context.connection)
    const topics = yield* Effect.forEach(request.topics, (topic) =>
      Effect.map(
        Effect.forEach(topic.partitions, (p) =>
          check.denied(context.connection, AclOperation.DELETE, ResourceType.TOPIC, topic.name)
          ? Effect.succeed({ partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED as number })
          : lookupLedPartition(image, topic.name, p.partitionIndex, cluster, node).pipe(
            Effect.andThen(store.deleteRecords({ topic: topic.name, partition: p.partitionIndex }, p.offset)),
            Effect.map((lowWatermark) => ({ partitionIndex: p.partitionIndex, lowWatermark, errorCode: ErrorCode.NONE })),
            Effect.catch((e) => Effect.succeed({ partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: e.code as number }))
          )),
        (partitions) => ({ name: topic.name, partitions })
      ))
    return { throttleTimeMs: 0, topics }
  }))
