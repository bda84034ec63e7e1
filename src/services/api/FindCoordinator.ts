// FindCoordinator v0-v6: this node coordinates every group. Keys of type 1 (transactions) are answered with
// COORDINATOR_NOT_AVAILABLE: there is no transaction coordinator. From v4 several keys are asked at once.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { FindCoordinator } from "../../protocol/messages/FindCoordinator.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { handler } from "./Handler.ts"
import { advertisedEndpoint } from "./Metadata.ts"

const GROUP = 0

export const make = handler(FindCoordinator, "0-6", (request, context) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const { host, port } = advertisedEndpoint(config, context.connection)
    const answer = (key: string) =>
      request.keyType !== GROUP
        ? { key, nodeId: -1, host: "", port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: "transactions are not supported" }
        : key === ""
        ? { key, nodeId: -1, host: "", port: -1, errorCode: ErrorCode.INVALID_GROUP_ID, errorMessage: "the group id is empty" }
        : { key, nodeId: config.nodeId, host, port, errorCode: ErrorCode.NONE, errorMessage: null }
    if (context.apiVersion >= 4) {
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 0, host: "", port: 0, coordinators: request.coordinatorKeys.map(answer) }
    }
    const single = answer(request.key)
    return { throttleTimeMs: 0, ...single, coordinators: [] }
  }))
