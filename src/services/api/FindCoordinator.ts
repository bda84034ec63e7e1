// FindCoordinator v0-v6: this node coordinates every group (key type 0) and every transactional id (key type
// 1): it leads the one partition of `__consumer_offsets` and of `__transaction_state` that their ids map to.
// An empty group id → 24; another key type → 42. From v4 several keys are asked at once.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { FindCoordinator } from "../../protocol/messages/FindCoordinator.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { handler } from "./Handler.ts"
import { advertisedEndpoint } from "./Metadata.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

const GROUP = 0
const TRANSACTION = 1

export const make = handler(FindCoordinator, "0-6", (request, context) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const { host, port } = advertisedEndpoint(config, context.connection)
    const check = yield* Authorization.current
    const failed = (key: string, errorCode: number, errorMessage: string) => ({ key, nodeId: -1, host: "", port: -1, errorCode, errorMessage })
    const answer = (key: string) =>
      request.keyType !== GROUP && request.keyType !== TRANSACTION
        ? failed(key, ErrorCode.INVALID_REQUEST, `unknown coordinator key type ${request.keyType}`)
        : request.keyType === GROUP && key === ""
        ? failed(key, ErrorCode.INVALID_GROUP_ID, "the group id is empty")
        : request.keyType === GROUP && check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.GROUP, key)
        ? failed(key, ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.")
        : request.keyType === TRANSACTION && check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)
        ? failed(key, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "Transactional Id authorization failed.")
        : { key, nodeId: config.nodeId, host, port, errorCode: ErrorCode.NONE, errorMessage: null }
    if (context.apiVersion >= 4) {
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 0, host: "", port: 0, coordinators: request.coordinatorKeys.map(answer) }
    }
    const single = answer(request.key)
    return { throttleTimeMs: 0, ...single, coordinators: [] }
  }))
