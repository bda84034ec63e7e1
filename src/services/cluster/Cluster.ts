// Which nodes make the cluster and which of them are up: the brokers Metadata lists, where partitions are placed,
// and which node coordinates a group or a transactional id. A broker on its own is a cluster of one (its
// node.id, always up); the embedded broker's `brokers: N` is N nodes in one process over the same storage
// (layers/cluster/SimulatedCluster.ts), each with its own listener. Coordinators are spread over the live nodes
// by rendezvous hashing of the key, so that a node going or coming moves only the keys it had or takes.
import { Context, Effect } from "effect"
import type { ConnectionInfo } from "../api/Handler.ts"
import { BrokerConfig, type BrokerConfigShape } from "../config/BrokerConfig.ts"
import { javaHash } from "../txn/Transactions.ts"
import { rendezvous } from "./Leadership.ts"

export interface NodeEndpoint {
  readonly nodeId: number
  readonly host: string
  readonly port: number
}

export interface ClusterShape {
  /** Every node of the cluster, up or not, in id order. */
  readonly nodeIds: ReadonlyArray<number>
  /** The nodes up now, in id order. */
  readonly live: () => ReadonlyArray<number>
  /** Where a client of `connection`'s listener reaches `nodeId`; undefined when it is down. */
  readonly endpoint: (nodeId: number, connection: ConnectionInfo) => NodeEndpoint | undefined
}

export class Cluster extends Context.Service<Cluster, ClusterShape>()("kafka/Cluster") {
  /** The cluster of the request: the one in the context, else this broker alone. */
  static readonly current: Effect.Effect<ClusterShape, never, BrokerConfig> = Effect.flatMap(
    Effect.serviceOption(Cluster),
    (c) => (c._tag === "Some" ? Effect.succeed(c.value) : Effect.map(BrokerConfig, single))
  )
}

/** The address a client of `connection` reaches this broker at: its listener's advertised address, else the one it reached. */
export const advertisedEndpoint = (config: BrokerConfigShape, connection: ConnectionInfo) => {
  // A client sees the brokers of the listener it connected to.
  const listener = connection.listener
  const advertised = listener === undefined ? config.advertised : listener.advertised
  const endpoint = advertised ?? listener ?? config.listener
  const host = isWildcard(endpoint.host) ? connection.localHost.replace(/^::ffff:/, "") : endpoint.host
  // Without advertised.listeners the port is the one the client reached (the listener may be bound to port 0).
  const port = advertised === undefined ? connection.localPort : endpoint.port
  return { host, port, name: listener?.name ?? config.listener.name }
}

const isWildcard = (host: string) => host === "" || host === "0.0.0.0" || host === "::"

const cache = new WeakMap<BrokerConfigShape, ClusterShape>()

/** A broker on its own. */
export const single = (config: BrokerConfigShape): ClusterShape => {
  let c = cache.get(config)
  if (c === undefined) {
    const ids = [config.nodeId]
    c = {
      nodeIds: ids,
      live: () => ids,
      endpoint: (nodeId, connection) => {
        if (nodeId !== config.nodeId) return undefined
        const { host, port } = advertisedEndpoint(config, connection)
        return { nodeId, host, port }
      }
    }
    cache.set(config, c)
  }
  return c
}

/** The node a connection reached (the broker's own without a cluster). */
export const nodeOf = (config: BrokerConfigShape, connection: ConnectionInfo): number => connection.nodeId ?? config.nodeId

/** The node of `live` coordinating `key` (a group id or transactional id); -1 when none is live. */
export const coordinatorOf = (live: ReadonlyArray<number>, key: string): number =>
  live.length === 1 ? live[0]! : rendezvous(key, live) ?? -1

/** The live node coordinating `key`. */
export const coordinatorFor = (cluster: ClusterShape, key: string): number => coordinatorOf(cluster.live(), key)

/** The lowest live node id: the one Metadata names as controller. */
export const controllerOf = (cluster: ClusterShape): number => cluster.live()[0] ?? -1

/**
 * Kafka's placement without racks: the replicas of partition p start at node (start + p) and go round the
 * nodes in order, the first being the preferred leader. `start` comes from the topic's name, so that topics'
 * partition 0s are spread too.
 */
export const placeReplicas = (topic: string, partition: number, nodeIds: ReadonlyArray<number>): Array<number> => {
  const n = nodeIds.length
  const start = ((javaHash(topic) & 0x7fffffff) + partition) % n
  return Array.from({ length: n }, (_, i) => nodeIds[(start + i) % n]!)
}
