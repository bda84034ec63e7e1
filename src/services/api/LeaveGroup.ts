// LeaveGroup v0-v5: one member (v0-v2) or several at once, by member id or group instance id (v3+). The group
// rebalances without them.
import { Effect, Result } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { LeaveGroup } from "../../protocol/messages/LeaveGroup.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(LeaveGroup, "0-5", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    if ((yield* Authorization.current).denied(context.connection, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] }
    }
    const members = context.apiVersion >= 3 ? request.members : [{ memberId: request.memberId, groupInstanceId: null }]
    const left = yield* coordinator.leave(request.groupId, members).pipe(Effect.result)
    if (Result.isFailure(left)) return { throttleTimeMs: 0, errorCode: left.failure.code, members: [] }
    const codes = left.success.map((e) => e?.code ?? ErrorCode.NONE)
    // Before v3 one member left, so its error is the request's.
    if (context.apiVersion < 3) return { throttleTimeMs: 0, errorCode: codes[0] ?? ErrorCode.NONE, members: [] }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      members: members.map((m, i) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: codes[i]! }))
    }
  }))
