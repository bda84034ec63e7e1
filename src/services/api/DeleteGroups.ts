// DeleteGroups v0-v2: deletes groups without members, with their committed offsets. A group with members →
// NON_EMPTY_GROUP (68); an unknown group → GROUP_ID_NOT_FOUND (69); over brokers sharing PostgreSQL, a group
// another broker coordinates → NOT_COORDINATOR (16), one moving → COORDINATOR_LOAD_IN_PROGRESS (14).
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DeleteGroups } from "../../protocol/messages/DeleteGroups.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(DeleteGroups, "0-2", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    const check = yield* Authorization.current
    const results = yield* Effect.forEach(request.groupsNames, (groupId) =>
      (check.denied(context.connection, AclOperation.DELETE, ResourceType.GROUP, groupId)
        ? Effect.succeed({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED as number })
        : coordinator.delete(groupId).pipe(
        Effect.as(ErrorCode.NONE as number),
        Effect.catch((e) =>
          e._tag === "GroupIdNotFound" || e._tag === "NonEmptyGroup" || e._tag === "NotCoordinator" || e._tag === "CoordinatorLoadInProgress"
            ? Effect.succeed(e.code)
            : Effect.as(Effect.logError(`deleting group ${groupId} failed: ${e.message}`), e.code)
        ),
        Effect.map((errorCode) => ({ groupId, errorCode }))
      )))
    return { throttleTimeMs: 0, results }
  }))
