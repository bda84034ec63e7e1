// ConsumerGroupDescribe v0-v1 (KIP-848): a consumer group's epochs, assignor and members, each with its
// subscription, its current partitions and its target ones (topic ids and names). A group of no such id, or a
// classic one, answers 69 (GROUP_ID_NOT_FOUND). v1 adds each member's type (1: consumer).
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ConsumerGroupDescribe } from "../../protocol/messages/ConsumerGroupDescribe.ts"
import type { Assignment } from "../group/ConsumerGroups.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { Authorization, authorizedOperations } from "../auth/Authorization.ts"
import { OPERATIONS_NOT_REQUESTED } from "./lookup.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

export const make = handler(ConsumerGroupDescribe, "0-1", (request, context) =>
  Effect.gen(function*() {
    // DESCRIBE on the group, else 30 for it.
    const check = yield* Authorization.current
    const coordinator = yield* GroupCoordinator
    const image = yield* (yield* ClusterMetadata).image
    const named = (a: Assignment) => ({
      topicPartitions: [...a].map(([topicId, partitions]) => ({
        topicId,
        topicName: image.topicsById.get(topicId)?.name ?? "",
        partitions: [...partitions]
      }))
    })
    const groups = yield* Effect.forEach(request.groupIds, (groupId) =>
      Effect.map(
        check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)
          ? Effect.succeed<"denied" | Effect.Success<ReturnType<typeof coordinator.consumerDescribe>>>("denied")
          : coordinator.consumerDescribe(groupId), (d) =>
        d === "denied"
          ? {
            errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED as number,
            errorMessage: "Group authorization failed." as string | null,
            groupId,
            groupState: "",
            groupEpoch: -1,
            assignmentEpoch: -1,
            assignorName: "",
            members: [],
            authorizedOperations: OPERATIONS_NOT_REQUESTED
          }
          : d === undefined
          ? {
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND as number,
            errorMessage: `Group ${groupId} not found.`,
            groupId,
            groupState: "Dead",
            groupEpoch: -1,
            assignmentEpoch: -1,
            assignorName: "",
            members: [],
            authorizedOperations: OPERATIONS_NOT_REQUESTED
          }
          : {
            errorCode: ErrorCode.NONE as number,
            errorMessage: null,
            groupId,
            groupState: d.state,
            groupEpoch: d.groupEpoch,
            assignmentEpoch: d.assignmentEpoch,
            assignorName: d.assignorName,
            members: d.members.map(({ member, target }) => ({
              memberId: member.memberId,
              instanceId: member.instanceId,
              rackId: member.rackId,
              memberEpoch: member.memberEpoch,
              clientId: member.clientId,
              clientHost: member.clientHost,
              subscribedTopicNames: [...member.subscribedTopicNames],
              subscribedTopicRegex: member.subscribedTopicRegex,
              assignment: named(member.assigned),
              targetAssignment: named(target),
              memberType: 1
            })),
            authorizedOperations: authorizedOperations(check, context.connection, request.includeAuthorizedOperations, ResourceType.GROUP, groupId)
          }))
    return { throttleTimeMs: 0, groups }
  }))
