// Failures a client can see. Each knows its Kafka error code; handlers keep them in the error channel and
// turn them into codes at the edge of each topic or partition result. Defects are never answered as code 0.
import { Schema } from "effect"
import { isPlatformError } from "effect/PlatformError"
import { ErrorCode } from "../protocol/ErrorCode.ts"

export class UnknownTopicOrPartition extends Schema.TaggedError<UnknownTopicOrPartition>()("UnknownTopicOrPartition", {
  topic: Schema.String,
  partition: Schema.optional(Schema.Number)
}) {
  readonly code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
  override get message() {
    return this.partition === undefined ? `unknown topic ${this.topic}` : `unknown topic or partition ${this.topic}-${this.partition}`
  }
}

/** A partition request sent to a node of the cluster that does not lead the partition. */
export class NotLeaderOrFollower extends Schema.TaggedError<NotLeaderOrFollower>()("NotLeaderOrFollower", {
  topic: Schema.String,
  partition: Schema.Number,
  node: Schema.Number
}) {
  readonly code = ErrorCode.NOT_LEADER_OR_FOLLOWER
  override get message() {
    return `broker ${this.node} is not the leader of ${this.topic}-${this.partition}`
  }
}

export class UnknownTopicId extends Schema.TaggedError<UnknownTopicId>()("UnknownTopicId", {
  topicId: Schema.String
}) {
  readonly code = ErrorCode.UNKNOWN_TOPIC_ID
  override get message() {
    return `unknown topic id ${this.topicId}`
  }
}

export class CorruptMessage extends Schema.TaggedError<CorruptMessage>()("CorruptMessage", {
  detail: Schema.String
}) {
  readonly code = ErrorCode.CORRUPT_MESSAGE
  override get message() {
    return this.detail
  }
}

const RecordErrors = Schema.Array(Schema.Struct({ batchIndex: Schema.Number, message: Schema.NullOr(Schema.String) }))

export class InvalidRecord extends Schema.TaggedError<InvalidRecord>()("InvalidRecord", {
  detail: Schema.String,
  recordErrors: Schema.optional(RecordErrors)
}) {
  readonly code = ErrorCode.INVALID_RECORD
  override get message() {
    return this.detail
  }
}

/** Records whose timestamps lie outside what the topic accepts (`message.timestamp.before/after.max.ms`). */
export class InvalidTimestamp extends Schema.TaggedError<InvalidTimestamp>()("InvalidTimestamp", {
  detail: Schema.String,
  recordErrors: RecordErrors
}) {
  readonly code = ErrorCode.INVALID_TIMESTAMP
  override get message() {
    return this.detail
  }
}

export class MessageTooLarge extends Schema.TaggedError<MessageTooLarge>()("MessageTooLarge", {
  size: Schema.Number,
  limit: Schema.Number
}) {
  readonly code = ErrorCode.MESSAGE_TOO_LARGE
  override get message() {
    return `batch of ${this.size} bytes exceeds message.max.bytes=${this.limit}`
  }
}

export class OffsetOutOfRange extends Schema.TaggedError<OffsetOutOfRange>()("OffsetOutOfRange", {
  offset: Schema.Number,
  logStartOffset: Schema.Number,
  logEndOffset: Schema.Number
}) {
  readonly code = ErrorCode.OFFSET_OUT_OF_RANGE
  override get message() {
    return `offset ${this.offset} is outside ${this.logStartOffset}..${this.logEndOffset}`
  }
}

export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  detail: Schema.String
}) {
  readonly code = ErrorCode.INVALID_REQUEST
  override get message() {
    return this.detail
  }
}

/** A request names something of a kind the broker does not know (DescribeClientQuotas: an entity type). */
export class UnsupportedVersion extends Schema.TaggedError<UnsupportedVersion>()("UnsupportedVersion", {
  detail: Schema.String
}) {
  readonly code = ErrorCode.UNSUPPORTED_VERSION
  override get message() {
    return this.detail
  }
}

/** UpdateFeatures: a feature level outside what the broker supports, or a change the upgrade type does not allow. */
export class InvalidUpdateVersion extends Schema.TaggedError<InvalidUpdateVersion>()("InvalidUpdateVersion", {
  detail: Schema.String
}) {
  readonly code = ErrorCode.INVALID_UPDATE_VERSION
  override get message() {
    return this.detail
  }
}

/** What failed, where, and the operating system's words for it: `write /data/t-0/0.log: ENOSPC: no space left`. */
export const describeFailure = (cause: unknown, path?: string): string => {
  if (!isPlatformError(cause)) return String(cause)
  const reason = cause.reason
  const where = path ?? (reason._tag === "BadArgument" ? undefined : reason.pathOrDescriptor)
  const detail = reason._tag === "BadArgument"
    ? reason.description ?? "bad argument"
    : (reason.cause instanceof Error ? reason.cause.message : undefined) ?? reason.description ?? reason._tag
  return `${reason.method}${where === undefined ? "" : ` ${where}`}: ${detail}`
}

/**
 * A log could not be read or written (disk full, a read-only or failing disk, permissions): the partition
 * answers KAFKA_STORAGE_ERROR, as Kafka does for a failed log dir, and the broker keeps serving the others.
 */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  partition: Schema.String,
  /** The file or directory, when the failing operation was on an open file (whose error names only its descriptor). */
  path: Schema.optional(Schema.String),
  cause: Schema.Defect()
}) {
  readonly code = ErrorCode.KAFKA_STORAGE_ERROR
  override get message() {
    return `storage failure on ${this.partition}: ${describeFailure(this.cause, this.path)}`
  }
}

/** The log dir cannot be used at start (missing permissions, a read-only file system): the broker does not start. */
export class LogDirUnavailable extends Schema.TaggedError<LogDirUnavailable>()("LogDirUnavailable", {
  dir: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `log dir ${this.dir} is not usable: ${this.detail}`
  }
}

/** A request the broker refuses by policy: too many records for one metadata change, too many partitions. */
export class PolicyViolation extends Schema.TaggedError<PolicyViolation>()("PolicyViolation", {
  detail: Schema.String
}) {
  readonly code = ErrorCode.POLICY_VIOLATION
  override get message() {
    return this.detail
  }
}

export class TopicAlreadyExists extends Schema.TaggedError<TopicAlreadyExists>()("TopicAlreadyExists", {
  topic: Schema.String
}) {
  readonly code = ErrorCode.TOPIC_ALREADY_EXISTS
  override get message() {
    return `topic ${this.topic} already exists`
  }
}

export class InvalidTopic extends Schema.TaggedError<InvalidTopic>()("InvalidTopic", {
  topic: Schema.String,
  detail: Schema.String
}) {
  readonly code = ErrorCode.INVALID_TOPIC_EXCEPTION
  override get message() {
    return `invalid topic name "${this.topic}": ${this.detail}`
  }
}

export class InvalidPartitions extends Schema.TaggedError<InvalidPartitions>()("InvalidPartitions", {
  detail: Schema.String
}) {
  readonly code = ErrorCode.INVALID_PARTITIONS
  override get message() {
    return this.detail
  }
}

export class InvalidReplicationFactor extends Schema.TaggedError<InvalidReplicationFactor>()("InvalidReplicationFactor", {
  replicationFactor: Schema.Number,
  brokers: Schema.Number
}) {
  readonly code = ErrorCode.INVALID_REPLICATION_FACTOR
  override get message() {
    return this.replicationFactor > this.brokers
      ? `Replication factor: ${this.replicationFactor} larger than available brokers: ${this.brokers}.`
      : `Replication factor must be larger than 0, or -1 to use the default value.`
  }
}

/** A topic config Kafka does not know, or a value of the wrong type or range (Kafka's INVALID_CONFIG). */
export class InvalidTopicConfig extends Schema.TaggedError<InvalidTopicConfig>()("InvalidTopicConfig", {
  name: Schema.String,
  detail: Schema.String
}) {
  readonly code = ErrorCode.INVALID_CONFIG
  override get message() {
    return `${this.name}: ${this.detail}`
  }
}

/** A config change Kafka refuses: a key that cannot change at run time, a value that does not parse (INVALID_CONFIG). */
export class InvalidConfigChange extends Schema.TaggedError<InvalidConfigChange>()("InvalidConfigChange", {
  detail: Schema.String
}) {
  readonly code = ErrorCode.INVALID_CONFIG
  override get message() {
    return this.detail
  }
}

/** An idempotent producer's batch does not follow the last one it wrote to the partition. */
export class OutOfOrderSequence extends Schema.TaggedError<OutOfOrderSequence>()("OutOfOrderSequence", {
  producerId: Schema.Number,
  expected: Schema.Number,
  received: Schema.Number
}) {
  readonly code = ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
  override get message() {
    return `producer ${this.producerId}: expected sequence ${this.expected}, received ${this.received}`
  }
}

/** A batch from an epoch of the producer id older than one already written (a fenced, zombie producer). */
export class InvalidProducerEpoch extends Schema.TaggedError<InvalidProducerEpoch>()("InvalidProducerEpoch", {
  producerId: Schema.Number,
  epoch: Schema.Number,
  current: Schema.Number
}) {
  readonly code = ErrorCode.INVALID_PRODUCER_EPOCH
  override get message() {
    return `producer ${this.producerId}: epoch ${this.epoch} is older than ${this.current}`
  }
}

/** A message set in format v0 or v1: the broker stores v2 record batches only. */
export class UnsupportedForMessageFormat extends Schema.TaggedError<UnsupportedForMessageFormat>()(
  "UnsupportedForMessageFormat",
  { detail: Schema.String }
) {
  readonly code = ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT
  override get message() {
    return this.detail
  }
}

// ---------------------------------------------------------------------------------------------------------
// Consumer groups

export class CoordinatorNotAvailable extends Schema.TaggedError<CoordinatorNotAvailable>()("CoordinatorNotAvailable", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.COORDINATOR_NOT_AVAILABLE
  override get message() {
    return this.detail === undefined ? "the group is being deleted" : `the group is being deleted: ${this.detail}`
  }
}

/** The coordinator of the key is taking it over from another broker: reading its state (retriable). */
export class CoordinatorLoadInProgress extends Schema.TaggedError<CoordinatorLoadInProgress>()("CoordinatorLoadInProgress", { key: Schema.String }) {
  readonly code = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
  override get message() {
    return `the coordinator of ${this.key} is loading its state`
  }
}

/** The key moved to another broker while its request waited here (the client finds the coordinator again). */
export class NotCoordinator extends Schema.TaggedError<NotCoordinator>()("NotCoordinator", { key: Schema.String }) {
  readonly code = ErrorCode.NOT_COORDINATOR
  override get message() {
    return `this broker no longer coordinates ${this.key}`
  }
}

export class IllegalGeneration extends Schema.TaggedError<IllegalGeneration>()("IllegalGeneration", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.ILLEGAL_GENERATION
  override get message() {
    return this.detail === undefined ? "not the group's current generation" : `not the group's current generation: ${this.detail}`
  }
}

export class InconsistentGroupProtocol extends Schema.TaggedError<InconsistentGroupProtocol>()("InconsistentGroupProtocol", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.INCONSISTENT_GROUP_PROTOCOL
  override get message() {
    return this.detail === undefined ? "no protocol in common with the group" : `no protocol in common with the group: ${this.detail}`
  }
}

export class InvalidGroupId extends Schema.TaggedError<InvalidGroupId>()("InvalidGroupId", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.INVALID_GROUP_ID
  override get message() {
    return this.detail === undefined ? "the group id is empty" : `the group id is empty: ${this.detail}`
  }
}

export class InvalidSessionTimeout extends Schema.TaggedError<InvalidSessionTimeout>()("InvalidSessionTimeout", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.INVALID_SESSION_TIMEOUT
  override get message() {
    return this.detail === undefined ? "session timeout outside group.min/max.session.timeout.ms" : `session timeout outside group.min/max.session.timeout.ms: ${this.detail}`
  }
}

export class RebalanceInProgress extends Schema.TaggedError<RebalanceInProgress>()("RebalanceInProgress", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.REBALANCE_IN_PROGRESS
  override get message() {
    return this.detail === undefined ? "the group is rebalancing" : `the group is rebalancing: ${this.detail}`
  }
}

export class FencedInstanceId extends Schema.TaggedError<FencedInstanceId>()("FencedInstanceId", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.FENCED_INSTANCE_ID
  override get message() {
    return this.detail === undefined ? "another member took this group.instance.id" : `another member took this group.instance.id: ${this.detail}`
  }
}

export class GroupIdNotFound extends Schema.TaggedError<GroupIdNotFound>()("GroupIdNotFound", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.GROUP_ID_NOT_FOUND
  override get message() {
    return this.detail === undefined ? "no such group" : `no such group: ${this.detail}`
  }
}

export class NonEmptyGroup extends Schema.TaggedError<NonEmptyGroup>()("NonEmptyGroup", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.NON_EMPTY_GROUP
  override get message() {
    return this.detail === undefined ? "the group has members" : `the group has members: ${this.detail}`
  }
}

/** OffsetDelete: the consumer group's members subscribe to the topic, so its offsets stay. */
export class GroupSubscribedToTopic extends Schema.TaggedError<GroupSubscribedToTopic>()("GroupSubscribedToTopic", { topic: Schema.String }) {
  readonly code = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC
  override get message() {
    return `the group is subscribed to topic ${this.topic}`
  }
}

export class OffsetMetadataTooLarge extends Schema.TaggedError<OffsetMetadataTooLarge>()("OffsetMetadataTooLarge", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.OFFSET_METADATA_TOO_LARGE
  override get message() {
    return this.detail === undefined ? "metadata longer than offset.metadata.max.bytes" : `metadata longer than offset.metadata.max.bytes: ${this.detail}`
  }
}

/** Not a member of the group (any more); `memberId` is what a JoinGroup answers with, when not its own. */
export class UnknownMemberId extends Schema.TaggedError<UnknownMemberId>()("UnknownMemberId", {
  memberId: Schema.optional(Schema.String)
}) {
  readonly code = ErrorCode.UNKNOWN_MEMBER_ID
  override get message() {
    return "unknown member id"
  }
}

/** JoinGroup v4+: a new member gets its id first, and joins again with it. */
export class MemberIdRequired extends Schema.TaggedError<MemberIdRequired>()("MemberIdRequired", {
  memberId: Schema.String
}) {
  readonly code = ErrorCode.MEMBER_ID_REQUIRED
  override get message() {
    return `join again with member id ${this.memberId}`
  }
}

// ---------------------------------------------------------------------------------------------------------
// Transactions

/** A request or batch that does not fit the transaction's state (a batch for a partition not in it, ...). */
export class InvalidTxnState extends Schema.TaggedError<InvalidTxnState>()("InvalidTxnState", { detail: Schema.String }) {
  readonly code = ErrorCode.INVALID_TXN_STATE
  override get message() {
    return this.detail
  }
}

/** The producer id is not the one the transactional id currently has. */
export class InvalidProducerIdMapping extends Schema.TaggedError<InvalidProducerIdMapping>()("InvalidProducerIdMapping", { detail: Schema.String }) {
  readonly code = ErrorCode.INVALID_PRODUCER_ID_MAPPING
  override get message() {
    return this.detail
  }
}

export class InvalidTransactionTimeout extends Schema.TaggedError<InvalidTransactionTimeout>()("InvalidTransactionTimeout", {
  timeoutMs: Schema.Number,
  maxMs: Schema.Number
}) {
  readonly code = ErrorCode.INVALID_TRANSACTION_TIMEOUT
  override get message() {
    return `transaction timeout ${this.timeoutMs} ms is not within 1..transaction.max.timeout.ms (${this.maxMs})`
  }
}

/** The transaction is completing (or its state is being written): retry shortly. */
export class ConcurrentTransactions extends Schema.TaggedError<ConcurrentTransactions>()("ConcurrentTransactions", { detail: Schema.String }) {
  readonly code = ErrorCode.CONCURRENT_TRANSACTIONS
  override get message() {
    return this.detail
  }
}

/** A newer producer with the same transactional id took over (or the coordinator aborted a timed-out transaction). */
export class ProducerFenced extends Schema.TaggedError<ProducerFenced>()("ProducerFenced", { detail: Schema.String }) {
  readonly code = ErrorCode.PRODUCER_FENCED
  override get message() {
    return this.detail
  }
}

/** A marker from a coordinator epoch older than one already written for the producer. */
export class TransactionCoordinatorFenced extends Schema.TaggedError<TransactionCoordinatorFenced>()("TransactionCoordinatorFenced", {
  producerId: Schema.Number,
  epoch: Schema.Number,
  current: Schema.Number
}) {
  readonly code = ErrorCode.TRANSACTION_COORDINATOR_FENCED
  override get message() {
    return `producer ${this.producerId}: coordinator epoch ${this.epoch} is older than ${this.current}`
  }
}

export class TransactionalIdNotFound extends Schema.TaggedError<TransactionalIdNotFound>()("TransactionalIdNotFound", { transactionalId: Schema.String }) {
  readonly code = ErrorCode.TRANSACTIONAL_ID_NOT_FOUND
  override get message() {
    return `no transactional id ${this.transactionalId}`
  }
}

/** What the transaction coordinator answers instead of a result. */
export type TxnError =
  | CoordinatorLoadInProgress
  | NotCoordinator
  | InvalidRequest
  | InvalidTxnState
  | InvalidProducerIdMapping
  | InvalidTransactionTimeout
  | ConcurrentTransactions
  | ProducerFenced
  | StorageError

// Consumer groups (KIP-848)

export class FencedMemberEpoch extends Schema.TaggedError<FencedMemberEpoch>()("FencedMemberEpoch", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.FENCED_MEMBER_EPOCH
  override get message() {
    return this.detail === undefined ? "the member epoch is fenced" : `the member epoch is fenced: ${this.detail}`
  }
}

export class StaleMemberEpoch extends Schema.TaggedError<StaleMemberEpoch>()("StaleMemberEpoch", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.STALE_MEMBER_EPOCH
  override get message() {
    return this.detail === undefined ? "the member epoch is stale" : `the member epoch is stale: ${this.detail}`
  }
}

export class UnreleasedInstanceId extends Schema.TaggedError<UnreleasedInstanceId>()("UnreleasedInstanceId", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.UNRELEASED_INSTANCE_ID
  override get message() {
    return this.detail === undefined ? "the instance id is still used by another member" : `the instance id is still used by another member: ${this.detail}`
  }
}

export class UnsupportedAssignor extends Schema.TaggedError<UnsupportedAssignor>()("UnsupportedAssignor", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.UNSUPPORTED_ASSIGNOR
  override get message() {
    return this.detail === undefined ? "the assignor is not supported" : `the assignor is not supported: ${this.detail}`
  }
}

export class GroupMaxSizeReached extends Schema.TaggedError<GroupMaxSizeReached>()("GroupMaxSizeReached", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.GROUP_MAX_SIZE_REACHED
  override get message() {
    return this.detail === undefined ? "the group is full" : `the group is full: ${this.detail}`
  }
}

export class InvalidRegularExpression extends Schema.TaggedError<InvalidRegularExpression>()("InvalidRegularExpression", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.INVALID_REGULAR_EXPRESSION
  override get message() {
    return this.detail === undefined ? "the regular expression is invalid" : `the regular expression is invalid: ${this.detail}`
  }
}

export class ConsumerInvalidRequest extends Schema.TaggedError<ConsumerInvalidRequest>()("ConsumerInvalidRequest", { detail: Schema.optional(Schema.String) }) {
  readonly code = ErrorCode.INVALID_REQUEST
  override get message() {
    return this.detail === undefined ? "invalid request" : `invalid request: ${this.detail}`
  }
}

/** What the group coordinator answers instead of a result. */
export type GroupError =
  | CoordinatorLoadInProgress
  | NotCoordinator
  | CoordinatorNotAvailable
  | IllegalGeneration
  | InconsistentGroupProtocol
  | InvalidGroupId
  | InvalidSessionTimeout
  | RebalanceInProgress
  | FencedInstanceId
  | GroupIdNotFound
  | NonEmptyGroup
  | UnknownMemberId
  | MemberIdRequired
  | FencedMemberEpoch
  | StaleMemberEpoch
  | UnreleasedInstanceId
  | UnsupportedAssignor
  | GroupMaxSizeReached
  | InvalidRegularExpression
  | ConsumerInvalidRequest


/** Refusals a client retries as a matter of course (the coordinator busy or moving): logged at debug only. */
export const retriable = (e: { readonly _tag: string }): boolean =>
  e._tag === "ConcurrentTransactions" || e._tag === "CoordinatorLoadInProgress" || e._tag === "NotCoordinator"

/** The database of `storage.url` cannot be reached or used at start-up (host:port/database, never the password). */
export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()("DatabaseUnavailable", {
  where: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `storage.url: cannot use PostgreSQL at ${this.where}: ${this.detail}`
  }
}
