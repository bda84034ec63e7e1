// OffsetFetch v0-v9: committed offsets of one group (v0-v7) or several (v8+); the named partitions, or every
// committed one when the topic list is null (v2+). A partition never committed answers offset -1 and empty
// metadata; an unknown group answers the same for every partition. With `require_stable` (v7+) a partition
// for which an open transaction committed an offset answers 88 (UNSTABLE_OFFSET_COMMIT): retry once it ends.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { OffsetFetch } from "../../protocol/messages/OffsetFetch.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

type Topics = ReadonlyArray<{ readonly name: string; readonly partitionIndexes: ReadonlyArray<number> }> | null

export const make = handler(OffsetFetch, "0-9", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    const requireStable = context.apiVersion >= 7 && request.requireStable
    // As Kafka: READ on the group (else 30), DESCRIBE on each topic (a named one without it answers 29 per
    // partition; an all-topics fetch leaves it out).
    const check = yield* Authorization.current
    const groupDenied = (groupId: string) => check.denied(context.connection, AclOperation.READ, ResourceType.GROUP, groupId)
    const topicDenied = (name: string) => check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, name)
    const refusedTopics = (topics: Topics) =>
      (topics ?? []).filter((t) => topicDenied(t.name)).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({
          partitionIndex,
          committedOffset: -1,
          committedLeaderEpoch: -1,
          metadata: "",
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED as number
        }))
      }))
    const fetch = (groupId: string, topics: Topics) =>
      Effect.map(
        coordinator.committed(groupId, topics?.filter((t) => !topicDenied(t.name)).map((t) => ({ topic: t.name, partitions: t.partitionIndexes })) ?? null),
        (all) => {
          const found = check.enabled ? all.filter((f) => !topicDenied(f.topic)) : all
          const byTopic = new Map<string, Array<(typeof found)[number]>>()
          for (const f of found) byTopic.set(f.topic, [...(byTopic.get(f.topic) ?? []), f])
          return [...refusedTopics(topics), ...[...byTopic].map(([name, partitions]) => ({
            name,
            partitions: partitions.map((p) =>
              requireStable && p.pending
                ? { partitionIndex: p.partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT }
                : {
                  partitionIndex: p.partition,
                  committedOffset: p.committed?.offset ?? -1,
                  committedLeaderEpoch: p.committed?.leaderEpoch ?? -1,
                  metadata: p.committed?.metadata ?? "",
                  errorCode: ErrorCode.NONE
                }
            )
          }))]
        }
      )
    if (context.apiVersion >= 8) {
      // v9: a consumer group's member reads with its member epoch (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID).
      const groups = yield* Effect.forEach(request.groups, (g) =>
        groupDenied(g.groupId) ? Effect.succeed({ groupId: g.groupId, topics: [], errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED as number }) : coordinator.checkFetch(g.groupId, context.apiVersion >= 9 ? g.memberId : null, context.apiVersion >= 9 ? g.memberEpoch : -1).pipe(
          Effect.andThen(Effect.map(fetch(g.groupId, g.topics), (topics) => ({ groupId: g.groupId, topics, errorCode: ErrorCode.NONE as number }))),
          Effect.catch((e) => Effect.succeed({ groupId: g.groupId, topics: [], errorCode: e.code as number }))
        ))
      return { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE, groups }
    }
    if (groupDenied(request.groupId)) {
      // v0-v1 carry the group's error in every partition, v2+ at the top.
      const topics = context.apiVersion < 2
        ? (request.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED as number
          }))
        }))
        : []
      return { throttleTimeMs: 0, topics, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groups: [] }
    }
    // v0-v1 have no null topic list: an empty one asks for nothing.
    const topics = yield* fetch(request.groupId, request.topics)
    return { throttleTimeMs: 0, topics, errorCode: ErrorCode.NONE, groups: [] }
  }))
