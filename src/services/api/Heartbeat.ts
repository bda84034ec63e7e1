// Heartbeat v0-v4: keeps a member's session alive; REBALANCE_IN_PROGRESS (27) tells it to rejoin,
// UNKNOWN_MEMBER_ID (25) and ILLEGAL_GENERATION (22) that it was removed or is behind. See GroupCoordinator.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { Heartbeat } from "../../protocol/messages/Heartbeat.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"

export const make = handler(Heartbeat, "0-4", (request) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    const errorCode = yield* coordinator.heartbeat(request.groupId, request.generationId, request).pipe(
      Effect.as(ErrorCode.NONE as number),
      Effect.catch((e) => Effect.succeed(e.code))
    )
    return { throttleTimeMs: 0, errorCode }
  }))
