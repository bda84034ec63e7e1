// OffsetCommit v0-v9: a group member commits within its generation; a consumer outside any group commits with
// generation -1 and no member id. Offsets are persisted before the answer. Unknown topic or partition → 3 for
// that partition; a metadata string over `offset.metadata.max.bytes` → 12.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { OffsetCommit } from "../../protocol/messages/OffsetCommit.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(OffsetCommit, "0-9", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    // As Kafka: READ on the group (else 30 for every partition), READ on each topic (else 29 for its partitions).
    const check = yield* Authorization.current
    if (check.denied(context.connection, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED as number }))
        }))
      }
    }
    const topicDenied = (name: string) => check.denied(context.connection, AclOperation.READ, ResourceType.TOPIC, name)
    const offsets = request.topics.filter((t) => !topicDenied(t.name)).flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: p.committedLeaderEpoch,
        metadata: p.committedMetadata
      }))
    )
    const result = yield* coordinator.commit(
      request.groupId,
      context.apiVersion === 0 ? -1 : request.generationIdOrMemberEpoch,
      { memberId: request.memberId, groupInstanceId: request.groupInstanceId },
      offsets
    ).pipe(
      Effect.map((errors) => errors.map((e) => e?.code ?? ErrorCode.NONE)),
      // The group's own error (or a failing offsets log) is every partition's.
      Effect.catch((e) => {
        const failAll = Effect.succeed(offsets.map(() => e.code as number))
        return e._tag === "StorageError" ? Effect.andThen(Effect.logError(`offset commit for group ${request.groupId} failed: ${e.message}`), failAll) : failAll
      })
    )
    let i = 0
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: topicDenied(t.name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : result[i++]!
        }))
      }))
    }
  }))
