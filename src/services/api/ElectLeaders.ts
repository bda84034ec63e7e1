// ElectLeaders v0-v2, as Kafka's controller answers (ReplicationControlManager.electLeader). In a cluster of
// several nodes, per partition:
// - preferred (0): its first replica not live → PREFERRED_LEADER_NOT_AVAILABLE (80) (even while it is still the
//   leader of record: Kafka's controller takes a fenced broker's leaderships at once); leading already →
//   ELECTION_NOT_NEEDED (84); else it is elected.
// - unclean (1): a live leader → 84; no live replica → ELIGIBLE_LEADERS_NOT_AVAILABLE (83); else the first live
//   replica is elected (the storage is shared, so no replica is behind and no election loses data).
// An election writes a PartitionChangeRecord (the new leader, the live replicas as ISR; the leader epoch bumps):
// the state the controller's reconciliation keeps (services/cluster/Leadership.ts). Null topic_partitions asks
// for every partition, and Kafka leaves out those that need no election. A broker on its own leads every
// partition as its preferred (first and only) replica, so each partition named answers 84 and null answers each
// topic with no partitions. Unknown topic or partition → 3. An election type other than 0 and 1 (v1+) →
// INVALID_REQUEST (42) at the top and for every partition named. v0 always elects the preferred leader.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import type { NewMetadataRecord } from "../../protocol/MetadataRecords.ts"
import { ElectLeaders } from "../../protocol/messages/ElectLeaders.ts"
import { Cluster, type ClusterShape } from "../cluster/Cluster.ts"
import { partitionChange } from "../cluster/Leadership.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import type { MetadataImage, PartitionInfo, TopicInfo } from "../metadata/MetadataImage.ts"
import { excessiveRequest, MAX_RECORDS_PER_REQUEST } from "../metadata/Topics.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"

/** Kafka's ElectionType: PREFERRED (0), UNCLEAN (1). */
const ELECTION_TYPES: ReadonlySet<number> = new Set([0, 1])

/** The messages Kafka's ApiError gives these errors (Errors' own). */
const NOT_NEEDED = "Leader election not needed for topic partition."
const PREFERRED_NOT_AVAILABLE = "The preferred leader was not available."
const ELIGIBLE_NOT_AVAILABLE = "Eligible topic partition leaders are not available."

interface Outcome {
  readonly errorCode: number
  readonly errorMessage: string | null
  readonly record?: NewMetadataRecord
}

/** What electing a leader of `p` answers in a cluster of several nodes, and the record it writes. */
export const elect = (topic: TopicInfo, p: PartitionInfo, electionType: number, live: ReadonlySet<number>): Outcome => {
  const isLive = (n: number) => live.has(n)
  if (electionType === 0) {
    const preferred = p.replicas[0]
    // A preferred replica that is down cannot lead, even while it is still the leader of record (until the
    // controller moves it: Kafka's controller fences a broker and moves its leaderships at once).
    if (preferred === undefined || !isLive(preferred)) {
      return { errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: PREFERRED_NOT_AVAILABLE }
    }
    if (p.leader === preferred) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: NOT_NEEDED }
  } else {
    if (isLive(p.leader)) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: NOT_NEEDED }
    if (!p.replicas.some(isLive)) return { errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: ELIGIBLE_NOT_AVAILABLE }
  }
  // The first live replica: the preferred one (live, checked above) or, unclean, the first one up.
  const record = partitionChange(topic.id, p, p.replicas, isLive)
  return { errorCode: ErrorCode.NONE, errorMessage: null, ...(record === undefined ? {} : { record }) }
}

interface Named {
  readonly topic: string
  readonly partitions: ReadonlyArray<number>
}

const unknownTopic = (topic: string, partitionId: number): Outcome & { partitionId: number } => ({
  partitionId,
  errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  errorMessage: `No such topic as ${topic}`
})

/** Every result on `image` (null `named`: every partition, leaving out those needing no election), and the records. */
const decide = (image: MetadataImage, cluster: ClusterShape, named: ReadonlyArray<Named> | null, electionType: number) => {
  const lone = cluster.nodeIds.length === 1
  const live = new Set(cluster.live())
  const records: Array<NewMetadataRecord> = []
  const one = (topic: TopicInfo, partitionId: number) => {
    const p = topic.partitions[partitionId]
    if (p === undefined) {
      return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION as number, errorMessage: `No such partition as ${topic.name}-${partitionId}` as string | null }
    }
    if (lone) return { partitionId, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: NOT_NEEDED }
    const { errorCode, errorMessage, record } = elect(topic, p, electionType, live)
    if (record !== undefined) {
      // Bounded as Kafka bounds a controller operation: the partitions past the bound are refused.
      if (records.length >= MAX_RECORDS_PER_REQUEST) {
        const e = excessiveRequest(records.length + 1)
        return { partitionId, errorCode: e.code as number, errorMessage: e.message as string | null }
      }
      records.push(record)
    }
    return { partitionId, errorCode, errorMessage }
  }
  const results = named === null
    ? [...image.topics.values()].map((topic) => ({
      topic: topic.name,
      partitionResult: topic.partitions.map((p) => one(topic, p.index)).filter((r) => r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED)
    }))
    : named.map((t) => {
      const topic = image.topics.get(t.topic)
      return {
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => topic === undefined ? unknownTopic(t.topic, partitionId) : one(topic, partitionId))
      }
    })
  return { records, result: { results, elected: records.length } }
}

export const make = handler(ElectLeaders, "0-2", (request, context) =>
  Effect.gen(function*() {
    const metadata = yield* ClusterMetadata
    const cluster = yield* Cluster.current
    if ((yield* Authorization.current).denied(context.connection, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        replicaElectionResults: (request.topicPartitions ?? []).map((t) => ({
          topic: t.topic,
          partitionResult: t.partitions.map((partitionId) => ({
            partitionId,
            errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED as number,
            errorMessage: "Cluster authorization failed." as string | null
          }))
        }))
      }
    }
    const electionType = context.apiVersion === 0 ? 0 : request.electionType
    if (!ELECTION_TYPES.has(electionType)) {
      const errorMessage = `Unknown election type ${electionType}`
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_REQUEST,
        replicaElectionResults: (request.topicPartitions ?? []).map((t) => ({
          topic: t.topic,
          partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage }))
        }))
      }
    }
    const answer = (replicaElectionResults: ReturnType<typeof decide>["result"]["results"]) => ({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults
    })
    // Decided on the image at hand first: a metadata update (over PostgreSQL, a table lock) only for an election.
    const first = decide(yield* metadata.image, cluster, request.topicPartitions, electionType)
    if (first.records.length === 0) return answer(first.result.results)
    return yield* metadata.update((image) => Effect.sync(() => decide(image, cluster, request.topicPartitions, electionType))).pipe(
      Effect.tap(({ elected }) =>
        Effect.logInfo(`${electionType === 0 ? "preferred" : "unclean"} election: ${elected} partitions changed leader (live brokers ${cluster.live().join(", ")})`)
      ),
      Effect.map(({ results }) => answer(results)),
      Effect.catch((e) =>
        Effect.succeed(answer((request.topicPartitions ?? []).map((t) => ({
          topic: t.topic,
          partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode: e.code as number, errorMessage: e.message as string | null }))
        }))))
      )
    )
  }))
