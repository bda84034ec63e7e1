// The consumer protocol's subscription, as members of a "consumer" group carry it in their JoinGroup protocol
// metadata (Kafka's ConsumerProtocolSubscription): an int16 version, then fields whose version-0 part (topics,
// user data) starts every later version. The coordinator reads that prefix only, as Kafka's does, to know
// which topics a group consumes.
import { ByteReader, MalformedInput } from "./Bytes.ts"
import { array, bytes, codec, field, string, struct } from "./Message.ts"

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
