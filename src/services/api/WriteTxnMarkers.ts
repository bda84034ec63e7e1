// WriteTxnMarkers v1 (v0 is gone from Kafka 4): a transaction coordinator (or an admin tool, for a hanging
// transaction) has markers written. Each partition gets a COMMIT or ABORT marker of the producer id and
// epoch; the offsets partition through the group coordinator, which settles the transaction's offsets. Unknown
// topic or partition → 3, an older producer epoch than the partition's → 47, an older coordinator epoch → 52.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { WriteTxnMarkers } from "../../protocol/messages/WriteTxnMarkers.ts"
import { GroupCoordinator, OFFSETS_PARTITION } from "../group/GroupCoordinator.ts"
import { LogStore } from "../log/LogStore.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

export const make = handler(WriteTxnMarkers, "1", (request, context) =>
  Effect.gen(function*() {
    // Brokers only: CLUSTER_ACTION on the cluster, else 31 for every partition.
    if ((yield* Authorization.current).denied(context.connection, AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return {
        markers: request.markers.map((m) => ({
          producerId: m.producerId,
          topics: m.topics.map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED as number }))
          }))
        }))
      }
    }
    const store = yield* LogStore
    const groups = yield* GroupCoordinator
    const image = yield* (yield* ClusterMetadata).image
    const markers = yield* Effect.forEach(request.markers, (m) => {
      const marker = { producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.transactionResult, coordinatorEpoch: m.coordinatorEpoch }
      return Effect.map(
        Effect.forEach(m.topics, (t) =>
          Effect.map(
            Effect.forEach(t.partitionIndexes, (partition) => {
              const tp = { topic: t.name, partition }
              const known = t.name === OFFSETS_PARTITION.topic ? partition === OFFSETS_PARTITION.partition : image.topics.get(t.name)?.partitions[partition] !== undefined
              const write = !known
                ? Effect.succeed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION as number)
                : (t.name === OFFSETS_PARTITION.topic ? groups.completeTransaction(marker) : Effect.asVoid(store.writeMarker(tp, marker))).pipe(
                  Effect.as(ErrorCode.NONE as number),
                  Effect.catch((e) =>
                    Effect.as(
                      e._tag === "StorageError" ? Effect.logError(e.message) : Effect.logWarning(`WriteTxnMarkers to ${t.name}-${partition}: ${e.message}`),
                      e.code
                    )
                  )
                )
              return Effect.map(write, (errorCode) => ({ partitionIndex: partition, errorCode }))
            }),
            (partitions) => ({ name: t.name, partitions })
          )),
        (topics) => ({ producerId: m.producerId, topics })
      )
    })
    return { markers }
  }))
