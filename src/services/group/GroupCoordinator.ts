// The group coordinator: the service the group APIs ask, its requests and results. Failures are tagged errors
// (services/Errors.ts) carrying their Kafka code; the handlers map them at the edge of each response. The
// classic protocol's state machine is pure (ClassicGroups.ts); the live layer (layers/group/) runs it, with
// timers on Effect's Clock and committed offsets kept in `__consumer_offsets-0` in Kafka's record format.
// Offsets a transaction commits are written there as the transaction's own batches and count once its COMMIT
// marker follows them (the transaction coordinator asks for it with `completeTransaction`).
import { Context, type Effect } from "effect"
import type {
  CoordinatorLoadInProgress,
  GroupError,
  GroupIdNotFound,
  GroupSubscribedToTopic,
  InvalidGroupId,
  InvalidProducerEpoch,
  NonEmptyGroup,
  NotCoordinator,
  OffsetMetadataTooLarge,
  StorageError,
  TransactionCoordinatorFenced,
  UnknownTopicOrPartition
} from "../Errors.ts"
import type { Marker } from "../../protocol/ControlRecords.ts"

/** The group is served by another broker, or moving between brokers (services/cluster/Coordination.ts). */
export type Moving = NotCoordinator | CoordinatorLoadInProgress
import type { ConsumerGroupDescription, HeartbeatRequest, HeartbeatResult } from "./ConsumerGroups.ts"

/** Classic groups' states, and consumer groups' (Assigning, Reconciling; Empty and Stable are both's). */
export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead" | "Assigning" | "Reconciling"

export interface Protocol {
  readonly name: string
  readonly metadata: Uint8Array
}

export interface JoinRequest {
  readonly groupId: string
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
  readonly protocolType: string
  readonly protocols: ReadonlyArray<Protocol>
  readonly clientId: string
  readonly clientHost: string
  /** JoinGroup v4+: a new member first gets its id with MEMBER_ID_REQUIRED and joins again with it. */
  readonly requireKnownMemberId: boolean
  /** JoinGroup v9+: a static leader rejoining a stable group need not assign again. */
  readonly supportsSkipAssignment: boolean
}

export interface JoinResult {
  readonly generationId: number
  readonly protocolType: string | null
  readonly protocolName: string | null
  readonly leader: string
  readonly memberId: string
  readonly skipAssignment: boolean
  /** Every member's metadata for the chosen protocol, for the leader only. */
  readonly members: ReadonlyArray<{ readonly memberId: string; readonly groupInstanceId: string | null; readonly metadata: Uint8Array }>
}

export interface SyncRequest {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId: string | null
  /** SyncGroup v5+; null when the client does not say. */
  readonly protocolType: string | null
  readonly protocolName: string | null
  readonly assignments: ReadonlyArray<{ readonly memberId: string; readonly assignment: Uint8Array }>
}

export interface SyncResult {
  readonly protocolType: string | null
  readonly protocolName: string | null
  readonly assignment: Uint8Array
}

export interface MemberRef {
  readonly memberId: string
  readonly groupInstanceId: string | null
}

export interface OffsetToCommit {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string | null
}

export interface CommittedOffset {
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string
  readonly commitTimestamp: number
}

export interface GroupDescription {
  readonly groupId: string
  readonly state: GroupState
  readonly protocolType: string
  readonly protocolName: string
  readonly members: ReadonlyArray<{
    readonly memberId: string
    readonly groupInstanceId: string | null
    readonly clientId: string
    readonly clientHost: string
    readonly metadata: Uint8Array
    readonly assignment: Uint8Array
  }>
}

export interface GroupListing {
  readonly groupId: string
  readonly protocolType: string
  readonly state: GroupState
  /** Which protocol the group runs: "consumer" (KIP-848); absent: "classic" (JoinGroup/SyncGroup). */
  readonly groupType?: "consumer"
}

/** Where committed offsets are kept, in Kafka's own name and format. */
export const OFFSETS_PARTITION = { topic: "__consumer_offsets", partition: 0 } as const

/** Why one offset of a commit was not taken. */
export type CommitError = UnknownTopicOrPartition | OffsetMetadataTooLarge

export class GroupCoordinator extends Context.Service<GroupCoordinator, {
  readonly join: (request: JoinRequest) => Effect.Effect<JoinResult, GroupError>
  readonly sync: (request: SyncRequest) => Effect.Effect<SyncResult, GroupError>
  readonly heartbeat: (groupId: string, generationId: number, member: MemberRef) => Effect.Effect<void, GroupError>
  /** One outcome per member (undefined: it left); the group's own error fails. */
  readonly leave: (groupId: string, members: ReadonlyArray<MemberRef>) => Effect.Effect<ReadonlyArray<GroupError | undefined>, GroupError>
  /** One outcome per offset, in order (undefined: committed); the group's own error fails. */
  readonly commit: (
    groupId: string,
    generationId: number,
    member: MemberRef,
    offsets: ReadonlyArray<OffsetToCommit>
  ) => Effect.Effect<ReadonlyArray<CommitError | undefined>, GroupError | StorageError | UnknownTopicOrPartition>
  /**
   * TxnOffsetCommit: offsets committed inside the producer's transaction, one outcome per offset; they count
   * once the transaction commits.
   */
  readonly commitTransactional: (
    groupId: string,
    generationId: number,
    member: MemberRef,
    producer: { readonly producerId: number; readonly producerEpoch: number },
    offsets: ReadonlyArray<OffsetToCommit>
  ) => Effect.Effect<
    ReadonlyArray<CommitError | undefined>,
    GroupError | StorageError | UnknownTopicOrPartition | InvalidProducerEpoch
  >
  /** Writes the transaction's marker to the offsets log; its offsets count (commit) or go (abort). */
  readonly completeTransaction: (
    marker: Marker
  ) => Effect.Effect<void, StorageError | UnknownTopicOrPartition | InvalidProducerEpoch | TransactionCoordinatorFenced>
  /**
   * The committed offsets of the named partitions (never committed: undefined), or of every partition when
   * null; `pending` when an open transaction committed one too.
   */
  readonly committed: (
    groupId: string,
    partitions: ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<number> }> | null
  ) => Effect.Effect<ReadonlyArray<{
    readonly topic: string
    readonly partition: number
    readonly committed: CommittedOffset | undefined
    readonly pending: boolean
  }>>
  /** ConsumerGroupHeartbeat (KIP-848): joins, stays in, or leaves a consumer group; its records are written first. */
  readonly consumerHeartbeat: (
    request: HeartbeatRequest
  ) => Effect.Effect<HeartbeatResult, GroupError | StorageError | UnknownTopicOrPartition>
  /** A consumer group (KIP-848), or undefined when there is none of that id. */
  readonly consumerDescribe: (groupId: string) => Effect.Effect<ConsumerGroupDescription | undefined>
  /** OffsetFetch v9+: a consumer group's member reads with its current epoch (classic groups: no check). */
  readonly checkFetch: (groupId: string, memberId: string | null, memberEpoch: number) => Effect.Effect<void, GroupError>
  readonly list: Effect.Effect<ReadonlyArray<GroupListing>>
  readonly describe: (groupId: string) => Effect.Effect<GroupDescription>
  readonly delete: (groupId: string) => Effect.Effect<void, Moving | GroupIdNotFound | NonEmptyGroup | StorageError | UnknownTopicOrPartition>
  /**
   * OffsetDelete: writes tombstones for the partitions' committed offsets (and those open transactions
   * committed), one outcome per partition (undefined: gone, or there was none); the group's own error fails.
   */
  readonly deleteOffsets: (
    groupId: string,
    partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>
  ) => Effect.Effect<
    ReadonlyArray<GroupSubscribedToTopic | undefined>,
    Moving | InvalidGroupId | GroupIdNotFound | NonEmptyGroup | StorageError | UnknownTopicOrPartition
  >
}>()("kafka/GroupCoordinator") {}
