// ElectLeaders v0-v2, as Kafka's controller answers for a cluster of this one node: it already leads every
// partition and is its preferred (first and only) replica, so a preferred (0) or unclean (1) election of any
// partition named answers ELECTION_NOT_NEEDED (84), an unknown topic or partition 3. Null topic_partitions asks
// for every partition: Kafka leaves out those that need no election, so each topic is answered with no
// partitions. An election type other than 0 and 1 (v1+) → INVALID_REQUEST (42) at the top and for every
// partition named. v0 always elects the preferred leader.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ElectLeaders } from "../../protocol/messages/ElectLeaders.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"

/** Kafka's ElectionType: PREFERRED (0), UNCLEAN (1). */
const ELECTION_TYPES: ReadonlySet<number> = new Set([0, 1])

/** The message Kafka's ApiError gives ELECTION_NOT_NEEDED. */
const NOT_NEEDED = "Leader election not needed for topic partition."

export const make = handler(ElectLeaders, "0-2", (request, context) =>
  Effect.gen(function*() {
    const image = yield* (yield* ClusterMetadata).image
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
    if (request.topicPartitions === null) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        replicaElectionResults: [...image.topics.keys()].map((topic) => ({ topic, partitionResult: [] }))
      }
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults: request.topicPartitions.map((t) => {
        const topic = image.topics.get(t.topic)
        return {
          topic: t.topic,
          partitionResult: t.partitions.map((partitionId) =>
            topic === undefined
              ? { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${t.topic}` }
              : topic.partitions[partitionId] === undefined
              ? { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${t.topic}-${partitionId}` }
              : { partitionId, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: NOT_NEEDED }
          )
        }
      })
    }
  }))
