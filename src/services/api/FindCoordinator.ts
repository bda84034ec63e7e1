// FindCoordinator v0-v6: the coordinator of a group (key type 0) or transactional id (key type 1) is the live
// node its id maps to (services/cluster/Cluster.ts: a broker on its own coordinates them all).
// An empty group id → 24; another key type → 42. From v4 several keys are asked at once.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { FindCoordinator } from "../../protocol/messages/FindCoordinator.ts"
import { Cluster, coordinatorFor } from "../cluster/Cluster.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

const GROUP = 0
const TRANSACTION = 1

export const make = handler(FindCoordinator, "0-6", (request, context) =>
  Effect.gen(function*() {
    const cluster = yield* Cluster.current
    const check = yield* Authorization.current
    const failed = (key: string, errorCode: number, errorMessage: string) => ({ key, nodeId: -1, host: "", port: -1, errorCode, errorMessage })
    const located = (key: string) => {
      const e = cluster.endpoint(coordinatorFor(cluster, key), context.connection)
      return e === undefined
        ? failed(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, "The coordinator is not available.")
        : { key, nodeId: e.nodeId, host: e.host, port: e.port, errorCode: ErrorCode.NONE, errorMessage: null as string | null }
    }
    const answer = (key: string) =>
      request.keyType !== GROUP && request.keyType !== TRANSACTION
        ? failed(key, ErrorCode.INVALID_REQUEST, `unknown coordinator key type ${request.keyType}`)
        : request.keyType === GROUP && key === ""
        ? failed(key, ErrorCode.INVALID_GROUP_ID, "the group id is empty")
        : request.keyType === GROUP && check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.GROUP, key)
        ? failed(key, ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.")
        : request.keyType === TRANSACTION && check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)
        ? failed(key, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "Transactional Id authorization failed.")
        : located(key)
    if (context.apiVersion >= 4) {
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 0, host: "", port: 0, coordinators: request.coordinatorKeys.map(answer) }
    }
    const single = answer(request.key)
    return { throttleTimeMs: 0, ...single, coordinators: [] }
  }))
