// The one table of APIs the broker serves. Dispatch looks handlers up here and ApiVersions advertises the
// version ranges of these same definitions, so the two can never disagree.
import type { Effect } from "effect"
import * as ApiVersions from "./api/ApiVersions.ts"
import * as CreatePartitions from "./api/CreatePartitions.ts"
import * as CreateTopics from "./api/CreateTopics.ts"
import * as DeleteGroups from "./api/DeleteGroups.ts"
import * as DeleteRecords from "./api/DeleteRecords.ts"
import * as DeleteTopics from "./api/DeleteTopics.ts"
import * as DescribeCluster from "./api/DescribeCluster.ts"
import * as DescribeConfigs from "./api/DescribeConfigs.ts"
import * as DescribeGroups from "./api/DescribeGroups.ts"
import * as DescribeTopicPartitions from "./api/DescribeTopicPartitions.ts"
import * as Fetch from "./api/Fetch.ts"
import * as FindCoordinator from "./api/FindCoordinator.ts"
import * as Heartbeat from "./api/Heartbeat.ts"
import * as InitProducerId from "./api/InitProducerId.ts"
import * as JoinGroup from "./api/JoinGroup.ts"
import * as LeaveGroup from "./api/LeaveGroup.ts"
import * as ListGroups from "./api/ListGroups.ts"
import * as ListOffsets from "./api/ListOffsets.ts"
import * as Metadata from "./api/Metadata.ts"
import * as OffsetCommit from "./api/OffsetCommit.ts"
import * as OffsetFetch from "./api/OffsetFetch.ts"
import * as Produce from "./api/Produce.ts"
import * as SyncGroup from "./api/SyncGroup.ts"
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
  DescribeConfigs.make,
  CreatePartitions.make,
  DeleteGroups.make,
  DescribeCluster.make,
  DescribeTopicPartitions.make
]

export const supportedApis: ReadonlyArray<ApiVersions.ApiRange> = [
  ...served.map((h) => h.api),
  ApiVersions.make(() => []).api
]
  .map((api) => ({ apiKey: api.key, minVersion: api.minVersion, maxVersion: api.maxVersion }))
  .sort((a, b) => a.apiKey - b.apiKey)

type AnyHandler = Handler<any, any, HandlerServices>

export type HandlerServices =
  | Effect.Services<ReturnType<(typeof served)[number]["handle"]>>
  | Effect.Services<ReturnType<ReturnType<typeof ApiVersions.make>["handle"]>>

export const handlers: ReadonlyMap<number, AnyHandler> = new Map<number, AnyHandler>(
  [...served, ApiVersions.make(() => supportedApis)].map((h) => [h.api.key, h as AnyHandler])
)
