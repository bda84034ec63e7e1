// SyncGroup v0-v5: the leader sends the assignment of every member; each member waits for its own. See
// GroupCoordinator.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { SyncGroup } from "../../protocol/messages/SyncGroup.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(SyncGroup, "0-5", (request, context) =>
  Effect.gen(function*() {
    if ((yield* Authorization.current).denied(context.connection, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: new Uint8Array(0) }
    }
    return yield* (yield* GroupCoordinator).sync(request).pipe(
      Effect.map((result) => ({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, ...result })),
      Effect.catch((e) =>
        Effect.succeed({ throttleTimeMs: 0, errorCode: e.code, protocolType: null, protocolName: null, assignment: new Uint8Array(0) })
      )
    )
  }), { waits: () => true })
