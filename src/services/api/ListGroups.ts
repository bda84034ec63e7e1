// ListGroups v0-v5: every group this node coordinates, filtered by state (v4+) and type (v5+: "classic" for
// JoinGroup/SyncGroup groups, "consumer" for KIP-848 ones).
import { Effect } from "effect"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { Cluster, coordinatorFor, nodeOf } from "../cluster/Cluster.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ListGroups } from "../../protocol/messages/ListGroups.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(ListGroups, "0-5", (request, context) =>
  Effect.gen(function*() {
    // DESCRIBE on the cluster lists every group; else only the groups the principal may DESCRIBE.
    const check = yield* Authorization.current
    const everything = !check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)
    // In a cluster each node lists the groups it coordinates, as Kafka's brokers do (clients ask them all).
    const cluster = yield* Cluster.current
    const node = nodeOf(yield* BrokerConfig, context.connection)
    const all = (yield* (yield* GroupCoordinator).list).filter((g) => cluster.nodeIds.length === 1 || coordinatorFor(cluster, g.groupId) === node)
    const groups = everything ? all : all.filter((g) => check.can(context.connection, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId))
    const states = new Set(request.statesFilter.map((s) => s.toLowerCase()))
    const types = new Set(request.typesFilter.map((t) => t.toLowerCase()))
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      groups: groups
        .filter((g) => (states.size === 0 || states.has(g.state.toLowerCase())) && (types.size === 0 || types.has(g.groupType ?? "classic")))
        .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: g.groupType ?? "classic" }))
    }
  }))
