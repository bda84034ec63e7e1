// DescribeGroups v0-v5: state, protocol and members of each group; member metadata and assignments while the
// group is Stable. An unknown group is described as Dead with no members.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeGroups } from "../../protocol/messages/DescribeGroups.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

type Member = ResponseOf<typeof DescribeGroups>["groups"][number]["members"][number]

/** READ, DELETE, DESCRIBE on a group: no ACLs, everything allowed. */
const GROUP_OPERATIONS = [3, 6, 8].reduce((bits, op) => bits | (1 << op), 0)

export const make = handler(DescribeGroups, "0-5", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    // DESCRIBE on the group, else 30 for it.
    const check = yield* Authorization.current
    const operations = (groupId: string) =>
      !check.enabled
        ? GROUP_OPERATIONS
        : [3, 6, 8].reduce((bits, op) => (check.can(context.connection, op, ResourceType.GROUP, groupId) ? bits | (1 << op) : bits), 0)
    const groups = yield* Effect.forEach(request.groups, (id) =>
      check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.GROUP, id)
        ? Effect.succeed({
          errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED as number,
          groupId: id,
          groupState: "",
          protocolType: "",
          protocolData: "",
          members: [] as Array<Member>,
          authorizedOperations: -2147483648
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
        authorizedOperations: request.includeAuthorizedOperations ? operations(g.groupId) : -2147483648
      })))
    return { throttleTimeMs: 0, groups }
  }))
