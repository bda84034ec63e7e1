// LeaveGroup v0-v5: one member (v0-v2) or several at once, by member id or group instance id (v3+). The group
// rebalances without them.
import { Effect } from "effect"
import { LeaveGroup } from "../../protocol/messages/LeaveGroup.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"

export const make = handler(LeaveGroup, (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    const members = context.apiVersion >= 3 ? request.members : [{ memberId: request.memberId, groupInstanceId: null }]
    const result = yield* coordinator.leave(request.groupId, members)
    if (context.apiVersion < 3) {
      // One member, so its error is the request's.
      return { throttleTimeMs: 0, errorCode: result.errorCode !== 0 ? result.errorCode : (result.members[0] ?? 0), members: [] }
    }
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      members: result.errorCode !== 0
        ? []
        : members.map((m, i) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: result.members[i]! }))
    }
  }))
