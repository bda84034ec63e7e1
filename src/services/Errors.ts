// Failures a client can see. Each knows its Kafka error code; handlers keep them in the error channel and
// turn them into codes at the edge of each topic or partition result. Defects are never answered as code 0.
import { Schema } from "effect"
import { ErrorCode } from "../protocol/ErrorCode.ts"

export class UnknownTopicOrPartition extends Schema.TaggedError<UnknownTopicOrPartition>()("UnknownTopicOrPartition", {
  topic: Schema.String,
  partition: Schema.optional(Schema.Number)
}) {
  readonly code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
}

export class UnknownTopicId extends Schema.TaggedError<UnknownTopicId>()("UnknownTopicId", {
  topicId: Schema.String
}) {
  readonly code = ErrorCode.UNKNOWN_TOPIC_ID
}

export class CorruptMessage extends Schema.TaggedError<CorruptMessage>()("CorruptMessage", {
  detail: Schema.String
}) {
  readonly code = ErrorCode.CORRUPT_MESSAGE
}

export class InvalidRecord extends Schema.TaggedError<InvalidRecord>()("InvalidRecord", {
  detail: Schema.String
}) {
  readonly code = ErrorCode.INVALID_RECORD
}

export class MessageTooLarge extends Schema.TaggedError<MessageTooLarge>()("MessageTooLarge", {
  size: Schema.Number,
  limit: Schema.Number
}) {
  readonly code = ErrorCode.MESSAGE_TOO_LARGE
}

export class OffsetOutOfRange extends Schema.TaggedError<OffsetOutOfRange>()("OffsetOutOfRange", {
  offset: Schema.Number,
  logStartOffset: Schema.Number,
  logEndOffset: Schema.Number
}) {
  readonly code = ErrorCode.OFFSET_OUT_OF_RANGE
}

export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  detail: Schema.String
}) {
  readonly code = ErrorCode.INVALID_REQUEST
}

export class InvalidRequiredAcks extends Schema.TaggedError<InvalidRequiredAcks>()("InvalidRequiredAcks", {
  acks: Schema.Number
}) {
  readonly code = ErrorCode.INVALID_REQUIRED_ACKS
}

/** A log could not be read or written (disk full, permissions): the partition answers a retriable error. */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  partition: Schema.String,
  cause: Schema.Defect()
}) {
  readonly code = ErrorCode.NOT_LEADER_OR_FOLLOWER
}

/** Every error that maps to a Kafka error code. */
export type KafkaError =
  | UnknownTopicOrPartition
  | UnknownTopicId
  | CorruptMessage
  | InvalidRecord
  | MessageTooLarge
  | OffsetOutOfRange
  | InvalidRequest
  | InvalidRequiredAcks
  | StorageError
