// Heartbeat v0-v4: keeps a member's session alive; REBALANCE_IN_PROGRESS (27) tells it to rejoin,
// UNKNOWN_MEMBER_ID (25) and ILLEGAL_GENERATION (22) that it was removed or is behind. See GroupCoordinator.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { Heartbeat } from "../../protocol/messages/Heartbeat.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(Heartbeat, "0-4", (request, context) =>
  Effect.gen(function*() {
    if ((yield* Authorization.current).denied(context.connection, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED }
    }
    const coordinator = yield* GroupCoordinator
    const errorCode = yield* coordinator.heartbeat(request.groupId, request.generationId, request).pipe(
      Effect.as(ErrorCode.NONE as number),
      Effect.catch((e) => Effect.succeed(e.code))
    )
    return { throttleTimeMs: 0, errorCode }
  }))
