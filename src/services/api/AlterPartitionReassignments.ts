// AlterPartitionReassignments v0-v1, as Kafka's controller answers for a cluster of this one node, where no
// reassignment is ever in progress. Replicas [this node] is the assignment the partition has: done at once,
// error 0. Other replicas → INVALID_REPLICA_ASSIGNMENT (39) with Kafka's reason (an empty list, a broker
// that is not registered, a broker named twice); with `allow_replication_factor_change` false (v1) a list of
// another length than the partition's one replica → INVALID_REPLICATION_FACTOR (38). Null replicas (cancel)
// → NO_REASSIGNMENT_IN_PROGRESS (85). Unknown topic or partition → 3.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { AlterPartitionReassignments } from "../../protocol/messages/AlterPartitionReassignments.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import type { MetadataImage } from "../metadata/MetadataImage.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

interface Outcome {
  readonly errorCode: number
  readonly errorMessage: string | null
}

const OK: Outcome = { errorCode: ErrorCode.NONE, errorMessage: null }
const invalid = (errorMessage: string): Outcome => ({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage })

/** Kafka's ReplicationControlManager.validateManualPartitionAssignment, where `nodeId` is the only broker. */
const validateReplicas = (replicas: ReadonlyArray<number>, nodeId: number): Outcome | undefined => {
  if (replicas.length === 0) return invalid("The manual partition assignment includes an empty replica list.")
  const sorted = [...replicas].sort((a, b) => a - b)
  let previous: number | undefined
  for (const broker of sorted) {
    if (broker !== nodeId) return invalid(`The manual partition assignment includes broker ${broker}, but no such broker is registered.`)
    if (broker === previous) return invalid(`The manual partition assignment includes the broker ${previous} more than once.`)
    previous = broker
  }
  return undefined
}

/** What reassigning one partition to `replicas` (null: cancelling) answers. */
export const reassign = (
  image: MetadataImage,
  nodeId: number,
  topic: string,
  partition: number,
  replicas: ReadonlyArray<number> | null,
  allowReplicationFactorChange: boolean
): Outcome => {
  const t = image.topics.get(topic)
  if (t === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Unable to find a topic named ${topic}.` }
  if (t.partitions[partition] === undefined) {
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Unable to find partition ${topic}:${partition}.` }
  }
  // Kafka answers NO_REASSIGNMENT_IN_PROGRESS without a message of its own.
  if (replicas === null) return { errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, errorMessage: null }
  const wrong = validateReplicas(replicas, nodeId)
  if (wrong !== undefined) return wrong
  // The partition has one replica, this node.
  if (!allowReplicationFactorChange && replicas.length !== 1) {
    return { errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: `The replication factor is changed from 1 to ${replicas.length}` }
  }
  return OK
}

export const make = handler(AlterPartitionReassignments, "0-1", (request, context) =>
  Effect.gen(function*() {
    const { nodeId } = yield* BrokerConfig
    const image = yield* (yield* ClusterMetadata).image
    const allowReplicationFactorChange = context.apiVersion < 1 || request.allowReplicationFactorChange
    if ((yield* Authorization.current).denied(context.connection, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return {
        throttleTimeMs: 0,
        allowReplicationFactorChange,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed." as string | null,
        responses: []
      }
    }
    return {
      throttleTimeMs: 0,
      allowReplicationFactorChange,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          ...reassign(image, nodeId, t.name, p.partitionIndex, p.replicas, allowReplicationFactorChange)
        }))
      }))
    }
  }))
