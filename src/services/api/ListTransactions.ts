// ListTransactions v0-v2: the transactional ids the coordinator knows, filtered by state names (unknown names
// are answered back), producer ids, (v1+) a minimum running time in ms, and (v2+) a regular expression the id
// matches; a pattern that is not one → 42.
import { Effect } from "effect"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { Cluster, coordinatorFor, nodeOf } from "../cluster/Cluster.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ListTransactions } from "../../protocol/messages/ListTransactions.ts"
import { TransactionCoordinator } from "../txn/TransactionCoordinator.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

export const make = handler(ListTransactions, "0-2", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* TransactionCoordinator
    // Only the transactional ids the principal may DESCRIBE are listed.
    const check = yield* Authorization.current
    // In a cluster each node lists the ids it coordinates.
    const cluster = yield* Cluster.current
    const node = nodeOf(yield* BrokerConfig, context.connection)
    return yield* coordinator.list({
      states: request.stateFilters,
      producerIds: request.producerIdFilters,
      minDurationMs: request.durationFilter,
      pattern: request.transactionalIdPattern
    }).pipe(
      Effect.map((r) => ({
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        unknownStateFilters: [...r.unknownStates],
        transactionStates: r.transactions.filter((t) =>
          (cluster.nodeIds.length === 1 || coordinatorFor(cluster, t.transactionalId) === node) &&
          !check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, t.transactionalId)
        ).map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: t.state }))
      })),
      Effect.catch((e) => Effect.succeed({ throttleTimeMs: 0, errorCode: e.code as number, unknownStateFilters: [], transactionStates: [] }))
    )
  }))
