// OffsetDelete v0: deletes a group's committed offsets for the given partitions, as tombstones in
// `__consumer_offsets`. An unknown topic or partition → 3 for it (the others go on); a partition of a topic the
// members of a consumer group with members subscribe to → GROUP_SUBSCRIBED_TO_TOPIC (86), or all of them when
// their subscriptions cannot be read. The group's own errors answer at the top with no topics: an unknown group
// → GROUP_ID_NOT_FOUND (69), a group of another protocol with members → NON_EMPTY_GROUP (68), an empty group id
// → INVALID_GROUP_ID (24).
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { OffsetDelete } from "../../protocol/messages/OffsetDelete.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

export const make = handler(OffsetDelete, "0", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    const image = yield* (yield* ClusterMetadata).image
    // As Kafka: DELETE on the group (else 30), READ on each topic (else 29 for its partitions).
    const check = yield* Authorization.current
    if (check.denied(context.connection, AclOperation.DELETE, ResourceType.GROUP, request.groupId)) {
      return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] }
    }
    const topicDenied = (topic: string) => check.denied(context.connection, AclOperation.READ, ResourceType.TOPIC, topic)
    const known = (topic: string, partition: number) =>
      !topicDenied(topic) && image.topics.get(topic)?.partitions[partition] !== undefined
    const asked = request.topics.flatMap((t) =>
      t.partitions.filter((p) => known(t.name, p.partitionIndex)).map((p) => ({ topic: t.name, partition: p.partitionIndex }))
    )
    const outcome = yield* coordinator.deleteOffsets(request.groupId, asked).pipe(
      Effect.map((refused) => ({ errorCode: ErrorCode.NONE as number, codes: refused.map((e) => e?.code ?? ErrorCode.NONE) })),
      Effect.catch((e) => {
        const answer = Effect.succeed({ errorCode: e.code as number, codes: [] as Array<number> })
        return e._tag === "StorageError" || e._tag === "UnknownTopicOrPartition"
          ? Effect.andThen(Effect.logError(`deleting offsets of group ${request.groupId} failed: ${e.message}`), answer)
          : answer
      })
    )
    if (outcome.errorCode !== ErrorCode.NONE) return { errorCode: outcome.errorCode, throttleTimeMs: 0, topics: [] }
    let i = 0
    return {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: known(t.name, p.partitionIndex)
            ? outcome.codes[i++]!
            : topicDenied(t.name)
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        }))
      }))
    }
  }))
