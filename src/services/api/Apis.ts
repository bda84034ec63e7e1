// The one table of APIs the broker serves. Dispatch looks handlers up here and ApiVersions advertises the
// version ranges of these same definitions, so the two can never disagree.
import * as AlterUserScramCredentials from "./AlterUserScramCredentials.ts"
import * as SaslAuthenticate from "./SaslAuthenticate.ts"
import * as SaslHandshake from "./SaslHandshake.ts"
import type { Effect } from "effect"
import * as AddOffsetsToTxn from "./AddOffsetsToTxn.ts"
import * as AddPartitionsToTxn from "./AddPartitionsToTxn.ts"
import * as AlterClientQuotas from "./AlterClientQuotas.ts"
import * as AlterConfigs from "./AlterConfigs.ts"
import * as AlterPartitionReassignments from "./AlterPartitionReassignments.ts"
import * as ApiVersions from "./ApiVersions.ts"
import * as ConsumerGroupDescribe from "./ConsumerGroupDescribe.ts"
import * as ConsumerGroupHeartbeat from "./ConsumerGroupHeartbeat.ts"
import * as CreateAcls from "./CreateAcls.ts"
import * as CreatePartitions from "./CreatePartitions.ts"
import * as CreateTopics from "./CreateTopics.ts"
import * as DeleteAcls from "./DeleteAcls.ts"
import * as DeleteGroups from "./DeleteGroups.ts"
import * as DeleteRecords from "./DeleteRecords.ts"
import * as DeleteTopics from "./DeleteTopics.ts"
import * as DescribeAcls from "./DescribeAcls.ts"
import * as DescribeClientQuotas from "./DescribeClientQuotas.ts"
import * as DescribeCluster from "./DescribeCluster.ts"
import * as DescribeConfigs from "./DescribeConfigs.ts"
import * as DescribeGroups from "./DescribeGroups.ts"
import * as DescribeLogDirs from "./DescribeLogDirs.ts"
import * as DescribeProducers from "./DescribeProducers.ts"
import * as DescribeQuorum from "./DescribeQuorum.ts"
import * as DescribeTopicPartitions from "./DescribeTopicPartitions.ts"
import * as DescribeTransactions from "./DescribeTransactions.ts"
import * as DescribeUserScramCredentials from "./DescribeUserScramCredentials.ts"
import * as ElectLeaders from "./ElectLeaders.ts"
import * as EndTxn from "./EndTxn.ts"
import * as Fetch from "./Fetch.ts"
import * as FindCoordinator from "./FindCoordinator.ts"
import * as Heartbeat from "./Heartbeat.ts"
import * as IncrementalAlterConfigs from "./IncrementalAlterConfigs.ts"
import * as InitProducerId from "./InitProducerId.ts"
import * as JoinGroup from "./JoinGroup.ts"
import * as LeaveGroup from "./LeaveGroup.ts"
import * as ListGroups from "./ListGroups.ts"
import * as ListOffsets from "./ListOffsets.ts"
import * as ListPartitionReassignments from "./ListPartitionReassignments.ts"
import * as ListTransactions from "./ListTransactions.ts"
import * as Metadata from "./Metadata.ts"
import * as OffsetCommit from "./OffsetCommit.ts"
import * as OffsetDelete from "./OffsetDelete.ts"
import * as OffsetFetch from "./OffsetFetch.ts"
import * as OffsetForLeaderEpoch from "./OffsetForLeaderEpoch.ts"
import * as Produce from "./Produce.ts"
import * as SyncGroup from "./SyncGroup.ts"
import * as TxnOffsetCommit from "./TxnOffsetCommit.ts"
import * as UpdateFeatures from "./UpdateFeatures.ts"
import * as WriteTxnMarkers from "./WriteTxnMarkers.ts"
import type { Handler } from "./Handler.ts"

const served = [
  Produce.make,
  Fetch.make,
  ListOffsets.make,
  Metadata.make,
  OffsetCommit.make,
  OffsetFetch.make,
  FindCoordinator.make,
  JoinGroup.make,
  Heartbeat.make,
  LeaveGroup.make,
  SyncGroup.make,
  DescribeGroups.make,
  ListGroups.make,
  CreateTopics.make,
  DeleteTopics.make,
  DeleteRecords.make,
  InitProducerId.make,
  AddPartitionsToTxn.make,
  AddOffsetsToTxn.make,
  EndTxn.make,
  WriteTxnMarkers.make,
  TxnOffsetCommit.make,
  DescribeConfigs.make,
  AlterConfigs.make,
  IncrementalAlterConfigs.make,
  CreatePartitions.make,
  DeleteGroups.make,
  DescribeCluster.make,
  DescribeProducers.make,
  DescribeTransactions.make,
  ListTransactions.make,
  DescribeAcls.make,
  CreateAcls.make,
  DeleteAcls.make,
  DescribeClientQuotas.make,
  AlterClientQuotas.make,
  DescribeUserScramCredentials.make,
  DescribeQuorum.make,
  UpdateFeatures.make,
  DescribeTopicPartitions.make,
  OffsetForLeaderEpoch.make,
  DescribeLogDirs.make,
  ElectLeaders.make,
  AlterPartitionReassignments.make,
  ListPartitionReassignments.make,
  OffsetDelete.make,
  ConsumerGroupHeartbeat.make,
  ConsumerGroupDescribe.make,
  SaslHandshake.make,
  SaslAuthenticate.make,
  AlterUserScramCredentials.make
]

export const supportedApis: ReadonlyArray<ApiVersions.ApiRange> = [...served, ApiVersions.make(() => [])]
  .map((h) => ({ apiKey: h.api.key, minVersion: h.minVersion, maxVersion: h.maxVersion }))
  .sort((a, b) => a.apiKey - b.apiKey)

type AnyHandler = Handler<any, any, HandlerServices>

export type HandlerServices =
  | Effect.Services<ReturnType<(typeof served)[number]["handle"]>>
  | Effect.Services<ReturnType<ReturnType<typeof ApiVersions.make>["handle"]>>

export const handlers: ReadonlyMap<number, AnyHandler> = new Map<number, AnyHandler>(
  [...served, ApiVersions.make(() => supportedApis)].map((h) => [h.api.key, h as AnyHandler])
)
