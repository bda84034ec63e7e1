// JoinGroup v0-v9 (classic protocol). The request waits until the group's next generation forms; the leader's
// answer lists every member's metadata. v4+: a new member first gets its id with MEMBER_ID_REQUIRED (79) and
// joins again with it. v0 has no rebalance timeout: the session timeout stands in for it. See GroupCoordinator.
import { Effect, Result } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { JoinGroup } from "../../protocol/messages/JoinGroup.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(JoinGroup, "0-9", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    const v = context.apiVersion
    const refused = (yield* Authorization.current).denied(context.connection, AclOperation.READ, ResourceType.GROUP, request.groupId)
    const joined = refused ? Result.fail({ code: ErrorCode.GROUP_AUTHORIZATION_FAILED as number }) : yield* coordinator.join({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: v === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols,
      clientId: context.clientId ?? "",
      clientHost: `/${context.connection.remote.replace(/:\d+$/, "")}`,
      requireKnownMemberId: v >= 4,
      supportsSkipAssignment: v >= 9
    }).pipe(Effect.result)
    if (Result.isFailure(joined)) {
      const e = joined.failure
      return {
        throttleTimeMs: 0,
        errorCode: e.code,
        generationId: -1,
        protocolType: null,
        protocolName: v >= 7 ? null : "",
        leader: "",
        skipAssignment: false,
        // MEMBER_ID_REQUIRED hands out the id to join with; a member removed while it waited gets "".
        memberId: "memberId" in e && e.memberId !== undefined ? e.memberId : request.memberId,
        members: []
      }
    }
    const result = joined.success
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      generationId: result.generationId,
      protocolType: result.protocolType,
      // Nullable only from v7.
      protocolName: v >= 7 ? result.protocolName : (result.protocolName ?? ""),
      leader: result.leader,
      skipAssignment: result.skipAssignment,
      memberId: result.memberId,
      members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata }))
    }
  }), { waits: () => true })
