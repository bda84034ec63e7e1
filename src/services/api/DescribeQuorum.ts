// DescribeQuorum v0-v2: the KRaft quorum of `__cluster_metadata` partition 0 as Kafka's Raft client describes it
// for a single combined node: this node is the leader and only voter (no observers), its epoch the metadata log's
// Raft epoch, the high watermark and the voter's log end offset the log's end offset (a lone voter commits what it
// appends), its last fetch and caught-up times now (Kafka reports the leader so). v2 adds the voter's directory id
// (unknown: the zero UUID, as for Kafka's static quorums) and its listener: the one clients reach this node on. A
// request that does not name exactly `__cluster_metadata` partition 0 gets UNKNOWN_TOPIC_OR_PARTITION (3) for each
// partition it names, as Kafka answers. With an authorizer it needs DESCRIBE on the cluster, else
// CLUSTER_AUTHORIZATION_FAILED (31) at the top.
import { Clock, Effect } from "effect"
import { ZERO_UUID } from "../../protocol/Bytes.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeQuorum } from "../../protocol/messages/DescribeQuorum.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"
import { advertisedEndpoint } from "../cluster/Cluster.ts"

type Response = ResponseOf<typeof DescribeQuorum>

export const METADATA_TOPIC = "__cluster_metadata"

export const make = handler(DescribeQuorum, "0-2", (request, context) =>
  Effect.gen(function*() {
    const check = yield* Authorization.current
    if (check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return {
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        topics: [],
        nodes: []
      } satisfies Response
    }
    const topic = request.topics.length === 1 ? request.topics[0]! : undefined
    if (topic?.topicName !== METADATA_TOPIC || topic.partitions.length !== 1 || topic.partitions[0]!.partitionIndex !== 0) {
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topics: request.topics.map((t) => ({
          topicName: t.topicName,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: "This server does not host this topic-partition.",
            leaderId: 0,
            leaderEpoch: 0,
            highWatermark: 0,
            currentVoters: [],
            observers: []
          }))
        })),
        nodes: []
      } satisfies Response
    }
    const config = yield* BrokerConfig
    const { endOffset, epoch } = yield* (yield* ClusterMetadata).log
    const now = yield* Clock.currentTimeMillis
    const { host, port, name } = advertisedEndpoint(config, context.connection)
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: [{
        topicName: METADATA_TOPIC,
        partitions: [{
          partitionIndex: 0,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          leaderId: config.nodeId,
          leaderEpoch: epoch,
          highWatermark: endOffset,
          currentVoters: [{
            replicaId: config.nodeId,
            replicaDirectoryId: ZERO_UUID,
            logEndOffset: endOffset,
            lastFetchTimestamp: now,
            lastCaughtUpTimestamp: now
          }],
          observers: []
        }]
      }],
      nodes: [{ nodeId: config.nodeId, listeners: [{ name, host, port }] }]
    } satisfies Response
  }))
