// A cluster of `brokers` nodes in one process over one set of services (the embedded broker's `brokers: N`):
// node ids 1..N, each with its own listeners (the configured ones, on ports of their own), partitions placed
// over them (services/cluster/Cluster.ts) and coordinators spread by key. A request for a partition sent to a
// node that does not lead it answers NOT_LEADER_OR_FOLLOWER, so clients exercise their metadata refresh and
// retries as against a real cluster. `moveLeader` changes a partition's leader (its leader epoch bumps);
// `stopNode` closes a node's listeners and connections and moves its leaderships to the next live replica, until
// `startNode` serves it again on the same ports and gives back the partitions it prefers (its first replica), as
// Kafka's preferred leader election does. The data is shared: nothing is copied, nothing is lost.
import { Context, Effect, Exit, Layer, Scope } from "effect"
import type { NewMetadataRecord } from "../../protocol/MetadataRecords.ts"
import { Cluster, type ClusterShape, type NodeEndpoint } from "../../services/cluster/Cluster.ts"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import { InvalidRequest, UnknownTopicOrPartition } from "../../services/Errors.ts"
import { ClusterMetadata } from "../../services/metadata/ClusterMetadata.ts"
import type { MetadataImage } from "../../services/metadata/MetadataImage.ts"
import { type BoundListener, Listener } from "../../services/network/Listener.ts"
import { RequestBudget } from "../../services/network/RequestBudget.ts"
import { serveNode } from "../network/TcpListener.ts"

export class ClusterControl extends Context.Service<ClusterControl, {
  /** Every node with the address of its first listener. */
  readonly nodes: () => ReadonlyArray<NodeEndpoint & { readonly live: boolean }>
  readonly moveLeader: (topic: string, partition: number, nodeId: number) => Effect.Effect<void, InvalidRequest | UnknownTopicOrPartition>
  readonly stopNode: (nodeId: number) => Effect.Effect<void, InvalidRequest>
  readonly startNode: (nodeId: number) => Effect.Effect<void, InvalidRequest>
}>()("kafka/ClusterControl") {}

const isWildcard = (host: string) => host === "" || host === "0.0.0.0" || host === "::"

/** The PartitionChangeRecords that give each partition `leaderOf` its leader (and `isrOf` its ISR), where they change. */
const changes = (
  image: MetadataImage,
  leaderOf: (p: { readonly leader: number; readonly replicas: ReadonlyArray<number> }) => number,
  isrOf: (replicas: ReadonlyArray<number>) => ReadonlyArray<number>
): Array<NewMetadataRecord> => {
  const out: Array<NewMetadataRecord> = []
  for (const topic of image.topics.values()) {
    for (const p of topic.partitions) {
      const leader = leaderOf(p)
      const isr = isrOf(p.replicas)
      const sameIsr = isr.length === p.isr.length && isr.every((n, i) => p.isr[i] === n)
      if (leader === p.leader && sameIsr) continue
      out.push({
        type: "PartitionChange",
        topicId: topic.id,
        partitionId: p.index,
        leader: leader === p.leader ? -2 : leader,
        isr: sameIsr ? null : [...isr]
      })
    }
  }
  return out
}

/** `ports`: node i + 1's port for the first listener (a broker reset listens where it did); default the configured one. */
export const make = (brokers: number, ports: ReadonlyArray<number> = []) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const metadata = yield* ClusterMetadata
    const nodeIds = Array.from({ length: brokers }, (_, i) => i + 1)
    const live = new Set(nodeIds)
    const bound = new Map<number, ReadonlyArray<BoundListener>>()
    const scopes = new Map<number, Scope.Closeable>()
    const budget = new RequestBudget(config.queuedMaxRequestBytes)
    const outer = yield* Effect.scope
    // What serving a node needs, kept for the nodes started again later.
    const services = yield* Effect.context<Effect.Services<ReturnType<typeof serveNode>>>()

    const cluster: ClusterShape = {
      nodeIds,
      live: () => nodeIds.filter((n) => live.has(n)),
      endpoint: (nodeId, connection) => {
        if (!live.has(nodeId)) return undefined
        const listeners = bound.get(nodeId) ?? []
        const l = listeners.find((b) => b.name === (connection.listener?.name ?? listeners[0]?.name))
        if (l === undefined) return undefined
        const host = isWildcard(l.host) ? connection.localHost.replace(/^::ffff:/, "") : l.host
        return { nodeId, host, port: l.port }
      }
    }

    const serve = (nodeId: number) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const before = bound.get(nodeId)
        const given = ports[nodeId - 1]
        const on = before !== undefined
          ? new Map(before.map((b) => [b.name, b.port]))
          : given !== undefined
          ? new Map([[config.listeners[0]!.name, given]])
          : undefined
        const served = yield* serveNode({ nodeId, ...(on === undefined ? {} : { ports: on }), cluster, budget }).pipe(
          Scope.provide(scope),
          Effect.provide(services),
          Effect.onError(() => Scope.close(scope, Exit.void))
        )
        bound.set(nodeId, served.listeners)
        scopes.set(nodeId, scope)
      })
    yield* Effect.forEach(nodeIds, serve, { discard: true })
    yield* Scope.addFinalizer(outer, Effect.forEach([...scopes.values()], (s) => Scope.close(s, Exit.void), { discard: true }))

    const known = (nodeId: number) =>
      nodeIds.includes(nodeId) ? Effect.void : Effect.fail(new InvalidRequest({ detail: `no broker ${nodeId}: the cluster has brokers ${nodeIds.join(", ")}` }))
    const update = (decide: (image: MetadataImage) => Array<NewMetadataRecord>) =>
      metadata.update((image) => Effect.succeed({ records: decide(image), result: undefined })).pipe(Effect.orDie)
    const liveIsr = (replicas: ReadonlyArray<number>) => replicas.filter((n) => live.has(n))

    return {
      cluster,
      listener: Listener.of({
        host: bound.get(1)![0]!.host,
        port: bound.get(1)![0]!.port,
        listeners: bound.get(1)!,
        reloadTls: Effect.void
      }),
      control: ClusterControl.of({
        nodes: () =>
          nodeIds.map((nodeId) => {
            const first = bound.get(nodeId)![0]!
            return { nodeId, host: isWildcard(first.host) ? "127.0.0.1" : first.host, port: first.port, live: live.has(nodeId) }
          }),
        moveLeader: (topic, partition, nodeId) =>
          Effect.gen(function*() {
            yield* known(nodeId)
            if (!live.has(nodeId)) return yield* new InvalidRequest({ detail: `broker ${nodeId} is stopped` })
            const image = yield* metadata.image
            const info = image.topics.get(topic)
            const p = info?.partitions[partition]
            if (info === undefined || p === undefined) return yield* new UnknownTopicOrPartition({ topic, partition })
            if (!p.replicas.includes(nodeId)) {
              return yield* new InvalidRequest({ detail: `broker ${nodeId} is not a replica of ${topic}-${partition} (replicas ${p.replicas.join(",")})` })
            }
            // Moved even to the leader it has: the leader epoch bumps, as a new election would.
            yield* update(() => [{
              type: "PartitionChange",
                    topicId: info.id,
              partitionId: partition,
              leader: nodeId,
              isr: liveIsr(p.replicas)
            }])
            yield* Effect.logInfo(`${topic}-${partition}: leader moved to broker ${nodeId}`)
          }),
        stopNode: (nodeId) =>
          Effect.gen(function*() {
            yield* known(nodeId)
            if (!live.has(nodeId)) return
            if (live.size === 1) return yield* new InvalidRequest({ detail: `broker ${nodeId} is the last one running` })
            live.delete(nodeId)
            yield* Scope.close(scopes.get(nodeId)!, Exit.void)
            scopes.delete(nodeId)
            yield* update((image) =>
              changes(image, (p) => (p.leader !== nodeId ? p.leader : p.replicas.find((n) => live.has(n)) ?? -1), liveIsr)
            )
            yield* Effect.logInfo(`broker ${nodeId} stopped; its partitions moved to the others`)
          }),
        startNode: (nodeId) =>
          Effect.gen(function*() {
            yield* known(nodeId)
            if (live.has(nodeId)) return
            yield* serve(nodeId).pipe(Effect.mapError((e) => new InvalidRequest({ detail: `broker ${nodeId} could not listen again: ${e.message}` })))
            live.add(nodeId)
            // Back to its preferred partitions, and those without a leader.
            yield* update((image) =>
              changes(image, (p) => (p.replicas[0] === nodeId || p.leader === -1 ? nodeId : p.leader), liveIsr)
            )
            yield* Effect.logInfo(`broker ${nodeId} started again`)
          })
      })
    }
  })

/** The cluster, its control and node 1's listener as the broker's `Listener`. */
export const layer = (brokers: number, ports: ReadonlyArray<number> = []) =>
  Layer.effectContext(Effect.map(make(brokers, ports), ({ cluster, listener, control }) =>
    Context.make(Cluster, cluster).pipe(Context.add(Listener, listener), Context.add(ClusterControl, control))))
