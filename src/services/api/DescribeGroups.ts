// DescribeGroups v0-v5: state, protocol and members of each group; member metadata and assignments while the
// group is Stable. An unknown group is described as Dead with no members.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeGroups } from "../../protocol/messages/DescribeGroups.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { handler } from "./Handler.ts"
import { Authorization, authorizedOperations } from "../auth/Authorization.ts"
import { OPERATIONS_NOT_REQUESTED } from "./lookup.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

type Member = ResponseOf<typeof DescribeGroups>["groups"][number]["members"][number]

export const make = handler(DescribeGroups, "0-5", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    // DESCRIBE on the group, else 30 for it.
    const check = yield* Authorization.current
    const groups = yield* Effect.forEach(request.groups, (id) =>
      check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.GROUP, id)
        ? Effect.succeed({
          errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED as number,
          groupId: id,
          groupState: "",
          protocolType: "",
          protocolData: "",
          members: [] as Array<Member>,
          authorizedOperations: OPERATIONS_NOT_REQUESTED
        })
        : Effect.map(coordinator.describe(id), (g) => ({
        errorCode: ErrorCode.NONE as number,
        groupState: g.state as string,
        groupId: g.groupId,
        protocolType: g.protocolType,
        protocolData: g.protocolName,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.metadata,
          memberAssignment: m.assignment
        })),
        authorizedOperations: authorizedOperations(check, context.connection, request.includeAuthorizedOperations, ResourceType.GROUP, g.groupId)
      })))
    return { throttleTimeMs: 0, groups }
  }))
