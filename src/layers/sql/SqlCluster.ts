// The cluster of brokers sharing one PostgreSQL database: each broker registers itself in `brokers` (node id,
// advertised addresses) and heartbeats every `broker.heartbeat.interval.ms`; a broker whose last heartbeat is
// older than `broker.session.timeout.ms` by the database's clock is not live. Every broker reads the table each
// heartbeat, and at once when another registers or leaves (NOTIFY on `brokers`), giving the `Cluster` service
// (services/cluster/Cluster.ts) its nodes, live nodes and addresses.
//
// The lowest live node acts as controller: when the partitions' leaders do not match the live nodes
// (services/cluster/Leadership.ts) it writes the PartitionChangeRecords through ClusterMetadata. It decides inside
// the metadata update, on the latest image and on the live set read in that same transaction, so two nodes
// that both believe they are controller for a moment write the same changes at most once. After its own
// heartbeats failed (the database was away, so nobody could beat) it moves nothing for a session timeout.
//
// Addresses: a listener's `advertised.listeners` entry, else the address it is bound to; a wildcard host is
// answered with the address the client connected to (right when the brokers share a host, as in tests; give
// advertised.listeners otherwise).
import { PgClient } from "@effect/sql-pg"
import { Clock, Context, Effect, Layer, Queue, Schedule, Scope } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { Cluster, type ClusterShape, controllerOf, type NodeEndpoint } from "../../services/cluster/Cluster.ts"
import { leadershipChanges } from "../../services/cluster/Leadership.ts"
import { BrokerConfig, type BrokerConfigShape } from "../../services/config/BrokerConfig.ts"
import { describeFailure } from "../../services/Errors.ts"
import { ClusterMetadata } from "../../services/metadata/ClusterMetadata.ts"
import { type BoundListener, Listener } from "../../services/network/Listener.ts"
import { RequestBudget } from "../../services/network/RequestBudget.ts"
import { serveNode } from "../network/TcpListener.ts"

/** The NOTIFY channel of `brokers`: a broker registered or left, or the controller moved partitions (the payload is its node id). */
export const BROKERS_CHANNEL = "brokers"

export interface AdvertisedListener {
  readonly name: string
  readonly host: string
  readonly port: number
}

export interface RegisteredBroker {
  readonly nodeId: number
  readonly listeners: ReadonlyArray<AdvertisedListener>
  readonly live: boolean
}

interface BrokerRow {
  readonly node_id: number
  readonly listeners: string
  readonly live: boolean
}

const isWildcard = (host: string) => host === "" || host === "0.0.0.0" || host === "::"

/** What this broker registers for its bound listeners: each one's advertised address, else the bound one. */
export const advertisedListeners = (config: BrokerConfigShape, bound: ReadonlyArray<BoundListener>): Array<AdvertisedListener> =>
  bound.map((b) => {
    const advertised = config.listeners.find((l) => l.name === b.name)?.advertised
    return advertised === undefined ? { name: b.name, host: b.host, port: b.port } : { name: b.name, host: advertised.host, port: advertised.port }
  })

/** Every registered broker, live or not, by the database's clock. */
export const readBrokers = (sql: SqlClient, sessionTimeoutMs: number): Effect.Effect<Array<RegisteredBroker>, SqlError> =>
  Effect.map(
    sql<BrokerRow>`select node_id, listeners,
      last_heartbeat > now() - make_interval(secs => ${sessionTimeoutMs / 1000}) as live
      from brokers order by node_id`,
    (rows) => rows.map((r) => ({ nodeId: Number(r.node_id), listeners: JSON.parse(r.listeners) as Array<AdvertisedListener>, live: r.live === true }))
  )

export interface Membership {
  readonly cluster: ClusterShape
  /** Registers this broker with these addresses and keeps it registered (heartbeats) until the scope closes. */
  readonly register: (listeners: ReadonlyArray<AdvertisedListener>) => Effect.Effect<void, SqlError, Scope.Scope>
  /** Reads the table again now (and reconciles leadership when this node is the controller). */
  readonly refresh: Effect.Effect<void>
}

/**
 * The cluster view over `brokers`. This node is always in it (nodes and live): it serves, whatever the table
 * says for a moment. Nothing is registered until `register`.
 */
export const makeMembership = Effect.gen(function*() {
  const sql = yield* SqlClient
  const pg = yield* PgClient.PgClient
  const config = yield* BrokerConfig
  const metadata = yield* ClusterMetadata
  const self = config.nodeId
  const incarnation = crypto.randomUUID()

  let brokers: ReadonlyArray<RegisteredBroker> = []
  let own: ReadonlyArray<AdvertisedListener> | undefined
  let nodeIds: ReadonlyArray<number> = [self]
  let live: ReadonlyArray<number> = [self]
  // Since when this broker's heartbeats have all succeeded (a broker just started has seen no outage).
  let healthySince: number | undefined = -Infinity

  const withSelf = (ids: ReadonlyArray<number>) => (ids.includes(self) ? ids : [...ids, self].sort((a, b) => a - b))

  const cluster: ClusterShape = {
    get nodeIds() {
      return nodeIds
    },
    live: () => live,
    endpoint: (nodeId, connection): NodeEndpoint | undefined => {
      if (!live.includes(nodeId)) return undefined
      const listeners = nodeId === self ? own : brokers.find((b) => b.nodeId === nodeId)?.listeners
      if (listeners === undefined || listeners.length === 0) return undefined
      const l = listeners.find((x) => x.name === connection.listener?.name) ?? listeners[0]!
      const host = isWildcard(l.host) ? connection.localHost.replace(/^::ffff:/, "") : l.host
      return { nodeId, host, port: l.port }
    }
  }

  // The controller's work: leaders in line with the live set read in the update's own transaction.
  const reconcile = metadata.update((image) =>
    Effect.map(readBrokers(sql, config.brokerSessionTimeoutMs), (rows) => {
      const records = leadershipChanges(image, rows.filter((b) => b.live).map((b) => b.nodeId))
      return { records, result: records.length }
    })
  ).pipe(
    // The others read the table again at once: their Metadata lists the brokers the leaders were chosen from.
    Effect.tap((moved) =>
      moved > 0
        ? Effect.andThen(
          Effect.logInfo(`controller: ${moved} partitions changed leader or ISR (live brokers ${live.join(", ")})`),
          pg.notify(BROKERS_CHANNEL, String(self))
        )
        : Effect.void
    )
  )

  const refresh = Effect.gen(function*() {
    brokers = yield* readBrokers(sql, config.brokerSessionTimeoutMs)
    nodeIds = withSelf(brokers.map((b) => b.nodeId))
    live = withSelf(brokers.filter((b) => b.live).map((b) => b.nodeId))
    if (controllerOf(cluster) !== self) return
    // After an outage of the database nobody could heartbeat: every broker looks dead until its next beat.
    // Moving partitions then would shuffle them all and back, so the controller waits until it has beaten
    // without failure for a whole session.
    if (healthySince === undefined || (yield* Clock.currentTimeMillis) - healthySince < config.brokerSessionTimeoutMs) return
    // Cheap check on the local view first: the update (a table lock) only when something is to change.
    if (leadershipChanges(yield* metadata.image, live).length > 0) yield* reconcile
  }).pipe(
    Effect.catch((e) => Effect.logWarning(`brokers: refreshing the cluster view failed: ${describeFailure(e)}`))
  )

  const heartbeat = (listeners: ReadonlyArray<AdvertisedListener>) => {
    const first = listeners[0] ?? { host: "", port: 0 }
    return sql`insert into brokers (node_id, host, port, listeners, incarnation, last_heartbeat)
      values (${self}, ${first.host}, ${first.port}, ${JSON.stringify(listeners)}, ${incarnation}, now())
      on conflict (node_id) do update set host = excluded.host, port = excluded.port, listeners = excluded.listeners,
        incarnation = excluded.incarnation, last_heartbeat = now()`
  }

  const register = (listeners: ReadonlyArray<AdvertisedListener>) =>
    Effect.gen(function*() {
      const previous = (yield* readBrokers(sql, config.brokerSessionTimeoutMs)).find((b) => b.nodeId === self)
      if (previous?.live === true) {
        yield* Effect.logWarning(`node.id ${self} is registered by a broker still live (another process, or this one before a crash); taking over`)
      }
      own = listeners
      yield* heartbeat(listeners)
      yield* pg.notify(BROKERS_CHANNEL, String(self))
      // Leaving: marked not live at once, so the controller moves this broker's partitions without waiting
      // for the session timeout. Only our own registration: a broker that took over the node id keeps its.
      yield* Effect.addFinalizer(() =>
        sql`update brokers set last_heartbeat = '-infinity' where node_id = ${self} and incarnation = ${incarnation}`.pipe(
          Effect.andThen(pg.notify(BROKERS_CHANNEL, String(self))),
          // A database that is away must not hold the shutdown: the session timeout will tell the others.
          Effect.timeout("3 seconds"),
          Effect.catch((e) => Effect.logWarning(`brokers: deregistering failed: ${describeFailure(e)}`))
        )
      )
      yield* Effect.logInfo(`registered as broker ${self} (${listeners.map((l) => `${l.name} ${l.host}:${l.port}`).join(", ")})`)

      // Other brokers joining or leaving: read the table at once.
      yield* Effect.scoped(Effect.gen(function*() {
        const notifications = yield* pg.listen(BROKERS_CHANNEL)
        return yield* Effect.forever(Effect.andThen(Queue.takeAll(notifications), refresh))
      })).pipe(
        Effect.tapError((e) => Effect.logWarning(`brokers: listening failed (${describeFailure(e)}); listening again`)),
        Effect.retry(Schedule.spaced("1 second")),
        Effect.forkScoped
      )
      yield* refresh
      yield* Effect.andThen(
        heartbeat(listeners).pipe(
          Effect.andThen(Clock.currentTimeMillis),
          Effect.tap((now) => Effect.sync(() => (healthySince ??= now))),
          Effect.catch((e) =>
            Effect.andThen(
              Effect.sync(() => (healthySince = undefined)),
              Effect.logWarning(`brokers: heartbeat failed: ${describeFailure(e)}`)
            )
          )
        ),
        refresh
      ).pipe(
        Effect.repeat(Schedule.spaced(`${config.brokerHeartbeatIntervalMs} millis`)),
        Effect.delay(`${config.brokerHeartbeatIntervalMs} millis`),
        Effect.forkScoped
      )
    })

  // The view as it stands before registering (other brokers already there).
  yield* refresh
  return { cluster, register, refresh } satisfies Membership
})

/** This broker's view of the registered brokers, shared by its listener and its coordinators. */
export class SqlMembership extends Context.Service<SqlMembership, Membership>()("kafka/SqlMembership") {}

export const membership = Layer.effect(SqlMembership, makeMembership)

/**
 * A broker of a PostgreSQL cluster: serves its listeners with the cluster view, then registers their addresses.
 * Provides `Cluster` and `Listener` (in place of layers/network/TcpListener.ts's).
 */
export const layer = Layer.effectContext(Effect.gen(function*() {
  const config = yield* BrokerConfig
  const membership = yield* SqlMembership
  const served = yield* serveNode({ nodeId: config.nodeId, cluster: membership.cluster, budget: new RequestBudget(config.queuedMaxRequestBytes) })
  yield* membership.register(advertisedListeners(config, served.listeners))
  const first = served.listeners[0]!
  return Context.make(Cluster, membership.cluster).pipe(
    Context.add(Listener, Listener.of({ host: first.host, port: first.port, listeners: served.listeners, reloadTls: served.reloadTls }))
  )
}))
