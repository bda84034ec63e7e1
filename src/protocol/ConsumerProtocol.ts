// The consumer protocol's subscription, as members of a "consumer" group carry it in their JoinGroup protocol
// metadata (Kafka's ConsumerProtocolSubscription): an int16 version, then fields whose version-0 part (topics,
// user data) starts every later version. The coordinator reads that prefix only, as Kafka's does, to know
// which topics a group consumes.
import { ByteReader, MalformedInput } from "./Bytes.ts"
import { array, bytes, codec, field, int32, string, struct } from "./Message.ts"

const SubscriptionV0 = struct({
  topics: field(array(string)),
  userData: field(bytes, "0+", { nullable: "0+" })
})

const subscriptionV0 = codec(SubscriptionV0, 0, false)

/** The topics a member's subscription names, or undefined when the metadata is not a consumer subscription. */
export const subscribedTopics = (metadata: Uint8Array): ReadonlyArray<string> | undefined => {
  try {
    const r = new ByteReader(metadata)
    if (r.int16() < 0) return undefined
    return subscriptionV0.read(r).topics
  } catch (e) {
    if (e instanceof MalformedInput) return undefined
    throw e
  }
}

// ConsumerProtocolAssignment: an int16 version, then (from v0) the assigned partitions by topic and user data.
const AssignmentV0 = struct({
  assignedPartitions: field(array(struct({ topic: field(string), partitions: field(array(int32)) }))),
  userData: field(bytes, "0+", { nullable: "0+" })
})

const assignmentV0 = codec(AssignmentV0, 0, false)

/** The partitions a member's SyncGroup assignment gives it, or undefined when it is not a consumer assignment. */
export const assignedPartitions = (assignment: Uint8Array): ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<number> }> | undefined => {
  if (assignment.length === 0) return []
  try {
    const r = new ByteReader(assignment)
    if (r.int16() < 0) return undefined
    return assignmentV0.read(r).assignedPartitions
  } catch (e) {
    if (e instanceof MalformedInput) return undefined
    throw e
  }
}
