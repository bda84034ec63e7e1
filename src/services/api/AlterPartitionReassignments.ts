// AlterPartitionReassignments v0-v1, as Kafka's controller answers (ReplicationControlManager). The replicas are
// checked against the cluster's registered nodes (Cluster.nodeIds, live or not), in Kafka's order and with its
// reasons: an empty list, a broker that is not registered, a broker named twice → INVALID_REPLICA_ASSIGNMENT (39);
// then, with `allow_replication_factor_change` false (v1), a list of another length than the partition's replicas
// → INVALID_REPLICATION_FACTOR (38). Null replicas (cancel) → NO_REASSIGNMENT_IN_PROGRESS (85), and unknown topic or
// partition → 3.
//
// The storage is shared by every node, so a replica moved needs no copy: a valid reassignment is complete as soon
// as its PartitionChangeRecord is written, and none is ever in progress (ListPartitionReassignments lists none).
// Each changed partition gets the new replicas, the live ones among them as ISR and the first live one as leader
// (-1 while none is up), its leader epoch bumping when the leader changes: the state the controller's
// reconciliation keeps (services/cluster/Leadership.ts). The current replicas again change nothing. All records of
// a request are written in one metadata update, decided on the latest image.
//
// A broker on its own describes every partition as [this node] (services/api/lookup.ts), so there [this node] is
// the only valid list, and it changes nothing.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import type { NewMetadataRecord } from "../../protocol/MetadataRecords.ts"
import type { RequestOf } from "../../protocol/Message.ts"
import { AlterPartitionReassignments } from "../../protocol/messages/AlterPartitionReassignments.ts"
import { Cluster, type ClusterShape } from "../cluster/Cluster.ts"
import { partitionChange } from "../cluster/Leadership.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import type { MetadataImage } from "../metadata/MetadataImage.ts"
import { excessiveRequest, MAX_RECORDS_PER_REQUEST } from "../metadata/Topics.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

interface Outcome {
  readonly errorCode: number
  readonly errorMessage: string | null
  /** What a valid reassignment writes; undefined when nothing changes. */
  readonly record?: NewMetadataRecord
}

const OK: Outcome = { errorCode: ErrorCode.NONE, errorMessage: null }
const invalid = (errorMessage: string): Outcome => ({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage })

/** Kafka's ReplicationControlManager.validateManualPartitionAssignment over the registered nodes. */
const validateReplicas = (replicas: ReadonlyArray<number>, registered: ReadonlyArray<number>): Outcome | undefined => {
  if (replicas.length === 0) return invalid("The manual partition assignment includes an empty replica list.")
  const sorted = [...replicas].sort((a, b) => a - b)
  let previous: number | undefined
  for (const broker of sorted) {
    if (!registered.includes(broker)) return invalid(`The manual partition assignment includes broker ${broker}, but no such broker is registered.`)
    if (broker === previous) return invalid(`The manual partition assignment includes the broker ${previous} more than once.`)
    previous = broker
  }
  return undefined
}

const sameList = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.length === b.length && a.every((n, i) => b[i] === n)

/** What reassigning one partition to `replicas` (null: cancelling) answers, and the record it writes. */
export const reassign = (
  image: MetadataImage,
  cluster: ClusterShape,
  topic: string,
  partition: number,
  replicas: ReadonlyArray<number> | null,
  allowReplicationFactorChange: boolean
): Outcome => {
  const t = image.topics.get(topic)
  if (t === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Unable to find a topic named ${topic}.` }
  const p = t.partitions[partition]
  if (p === undefined) {
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Unable to find partition ${topic}:${partition}.` }
  }
  // Kafka answers NO_REASSIGNMENT_IN_PROGRESS without a message of its own.
  if (replicas === null) return { errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, errorMessage: null }
  const wrong = validateReplicas(replicas, cluster.nodeIds)
  if (wrong !== undefined) return wrong
  // A broker on its own holds every partition as its one replica.
  const lone = cluster.nodeIds.length === 1
  const current = lone ? cluster.nodeIds : p.replicas
  if (!allowReplicationFactorChange && replicas.length !== current.length) {
    return {
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
      errorMessage: `The replication factor is changed from ${current.length} to ${replicas.length}`
    }
  }
  if (lone || sameList(replicas, p.replicas)) return OK
  const live = new Set(cluster.live())
  const record = partitionChange(t.id, p, replicas, (n) => live.has(n))
  return record === undefined ? OK : { ...OK, record }
}

type Request = RequestOf<typeof AlterPartitionReassignments>

/** Every partition's answer on `image`, and the records of those that change (at most MAX_RECORDS_PER_REQUEST). */
const decide = (image: MetadataImage, cluster: ClusterShape, request: Request, allowReplicationFactorChange: boolean) => {
  const records: Array<NewMetadataRecord> = []
  const responses = request.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      const { errorCode, errorMessage, record } = reassign(image, cluster, t.name, p.partitionIndex, p.replicas, allowReplicationFactorChange)
      if (record !== undefined) {
        // Bounded as Kafka bounds a controller operation: the partitions past the bound are refused.
        if (records.length >= MAX_RECORDS_PER_REQUEST) {
          const e = excessiveRequest(records.length + 1)
          return { partitionIndex: p.partitionIndex, errorCode: e.code as number, errorMessage: e.message as string | null }
        }
        records.push(record)
      }
      return { partitionIndex: p.partitionIndex, errorCode, errorMessage }
    })
  }))
  return { records, result: { responses, changed: records.length } }
}

export const make = handler(AlterPartitionReassignments, "0-1", (request, context) =>
  Effect.gen(function*() {
    const metadata = yield* ClusterMetadata
    const cluster = yield* Cluster.current
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
    const answer = (responses: ReturnType<typeof decide>["result"]["responses"]) => ({
      throttleTimeMs: 0,
      allowReplicationFactorChange,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses
    })
    // Decided on the image at hand first: a metadata update (over PostgreSQL, a table lock) only when something changes.
    const first = decide(yield* metadata.image, cluster, request, allowReplicationFactorChange)
    if (first.records.length === 0) return answer(first.result.responses)
    return yield* metadata.update((image) => Effect.sync(() => decide(image, cluster, request, allowReplicationFactorChange))).pipe(
      Effect.tap(({ changed }) => Effect.logInfo(`reassigned ${changed} partitions (live brokers ${cluster.live().join(", ")})`)),
      Effect.map(({ responses }) => answer(responses)),
      Effect.catch((e) =>
        Effect.succeed(answer(request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: e.code as number, errorMessage: e.message as string | null }))
        }))))
      )
    )
  }))
