// DescribeGroups v0-v5: state, protocol and members of each group; member metadata and assignments while the
// group is Stable. An unknown group is described as Dead with no members.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeGroups } from "../../protocol/messages/DescribeGroups.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"

/** READ, DELETE, DESCRIBE on a group: no ACLs, everything allowed. */
const GROUP_OPERATIONS = [3, 6, 8].reduce((bits, op) => bits | (1 << op), 0)

export const make = handler(DescribeGroups, "0-5", (request) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    const groups = yield* Effect.forEach(request.groups, (id) =>
      Effect.map(coordinator.describe(id), (g) => ({
        errorCode: ErrorCode.NONE,
        groupId: g.groupId,
        groupState: g.state,
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
        authorizedOperations: request.includeAuthorizedOperations ? GROUP_OPERATIONS : -2147483648
      })))
    return { throttleTimeMs: 0, groups }
  }))
