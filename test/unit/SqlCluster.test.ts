// Brokers over one PostgreSQL database (layers/sql/SqlCluster.ts): registration and heartbeats make the cluster
// view every broker shares; a broker that leaves is gone at once, one that stops heartbeating is gone after the
// session timeout; the lowest live node moves leaders to live replicas (leader epoch bumped) and back to the
// preferred one when it returns. Against a throwaway server (test/support/Postgres.ts), with short timeouts.
import { Context, Effect, Exit, Layer, Logger, Scope } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { bootstrapRecords, topicRecords } from "../../src/protocol/MetadataRecords.ts"
import * as Migrations from "../../src/layers/sql/Migrations.ts"
import * as PgClient from "../../src/layers/sql/PgClient.ts"
import { type AdvertisedListener, makeMembership, type Membership, readBrokers } from "../../src/layers/sql/SqlCluster.ts"
import * as SqlMetadata from "../../src/layers/sql/SqlMetadata.ts"
import type { ConnectionInfo } from "../../src/services/api/Handler.ts"
import { controllerOf } from "../../src/services/cluster/Cluster.ts"
import { BrokerConfig } from "../../src/services/config/BrokerConfig.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import type { MetadataImage } from "../../src/services/metadata/MetadataImage.ts"
import { type Postgres, postgresInstalled, requirePostgres, startPostgres } from "../support/Postgres.ts"

let pg: Postgres | undefined

const HEARTBEAT_MS = 100
const SESSION_MS = 1000

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect.pipe(Effect.provide(Logger.layer([]))))

interface Node {
  readonly nodeId: number
  readonly membership: Membership
  readonly metadata: ClusterMetadata["Service"]
  readonly sql: SqlClient
  /** A clean stop: deregisters. */
  readonly close: Effect.Effect<void>
}

const listenersOf = (nodeId: number): Array<AdvertisedListener> => [{ name: "PLAINTEXT", host: "", port: 9000 + nodeId }]

/** A broker's services over the database (no TCP listener): metadata, then its membership, registered. */
const start = (url: string, nodeId: number, heartbeatMs = HEARTBEAT_MS) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const config = BrokerConfig.layerFrom({
      "node.id": String(nodeId),
      "broker.heartbeat.interval.ms": String(heartbeatMs),
      "broker.session.timeout.ms": String(SESSION_MS)
    })
    const context = yield* Layer.buildWithScope(
      SqlMetadata.layer.pipe(
        Layer.provide(Migrations.layer),
        Layer.provideMerge(PgClient.layerFromUrl(url, { maxConnections: 4 })),
        Layer.provideMerge(config)
      ),
      scope
    )
    const membership = yield* makeMembership.pipe(Effect.provide(context), Scope.provide(scope))
    yield* membership.register(listenersOf(nodeId)).pipe(Scope.provide(scope))
    return {
      nodeId,
      membership,
      metadata: Context.get(context, ClusterMetadata),
      sql: Context.get(context, SqlClient),
      close: Scope.close(scope, Exit.void)
    } satisfies Node
  })

const until = <A>(what: string, get: () => Effect.Effect<A> | A, check: (a: A) => boolean, timeoutMs = 10_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const got = get()
      const value = Effect.isEffect(got) ? yield* got : got
      if (check(value)) return value
      if (Date.now() > deadline) return yield* Effect.die(new Error(`${what}: still ${JSON.stringify(value)}`))
      yield* Effect.sleep("20 millis")
    }
  })

const sameIds = (expected: ReadonlyArray<number>) => (ids: ReadonlyArray<number>) => ids.join(",") === expected.join(",")

const connection = (localHost: string): ConnectionInfo => ({ id: 1, localHost, localPort: 9001, remote: "test" })

const TOPIC_ID = "00000000-0000-4000-8000-00000000000a"
const SOLO_ID = "00000000-0000-4000-8000-00000000000b"

const leaders = (image: MetadataImage, topic: string) => image.topics.get(topic)?.partitions.map((p) => p.leader) ?? []

describe("SqlCluster", () => {
  requirePostgres()
  beforeAll(async () => {
    if (postgresInstalled) pg = await startPostgres()
  }, 60_000)
  afterAll(() => pg?.stop())

  it.runIf(postgresInstalled)("brokers register and see each other; one leaving is gone at once, one silent after the session timeout", async () => {
    const url = await pg!.createDatabase()
    const nodes = await run(Effect.all([start(url, 1), start(url, 2), start(url, 3)], { concurrency: "unbounded" }))
    const [n1, n2, n3] = nodes as [Node, Node, Node]
    try {
      for (const n of nodes) {
        await run(until(`live at ${n.nodeId}`, () => n.membership.cluster.live(), sameIds([1, 2, 3])))
        assert.deepStrictEqual(n.membership.cluster.nodeIds, [1, 2, 3])
        assert.strictEqual(controllerOf(n.membership.cluster), 1)
      }
      // Addresses come from the registration; a wildcard host is the one the client reached.
      assert.deepStrictEqual(n1.membership.cluster.endpoint(3, connection("10.0.0.7")), { nodeId: 3, host: "10.0.0.7", port: 9003 })
      assert.deepStrictEqual(n3.membership.cluster.endpoint(1, connection("::ffff:127.0.0.1")), { nodeId: 1, host: "127.0.0.1", port: 9001 })

      // A clean stop deregisters: the others drop it long before the session timeout.
      const stoppedAt = Date.now()
      await run(n3.close)
      await run(until("node 3 gone", () => n1.membership.cluster.live(), sameIds([1, 2]), SESSION_MS))
      assert.isBelow(Date.now() - stoppedAt, SESSION_MS)
      assert.deepStrictEqual(n1.membership.cluster.nodeIds, [1, 2, 3], "a node stays known while down")
      assert.strictEqual(n1.membership.cluster.endpoint(3, connection("127.0.0.1")), undefined)

      // A broker that stops heartbeating without a word (a crash): live until its session times out.
      await run(n1.sql`insert into brokers (node_id, host, port, listeners, incarnation) values (7, 'h7', 9007, '[]', 'crashed')`)
      await run(n1.membership.refresh)
      assert.deepStrictEqual(n1.membership.cluster.live(), [1, 2, 7])
      const rows = await run(readBrokers(n1.sql, SESSION_MS))
      assert.deepStrictEqual(rows.map((r) => [r.nodeId, r.live]), [[1, true], [2, true], [3, false], [7, true]])
      await run(until("node 7 timed out", () => n2.membership.cluster.live(), sameIds([1, 2]), SESSION_MS + 5 * HEARTBEAT_MS + 2000))
    } finally {
      await run(Effect.forEach([n1, n2], (n) => n.close))
    }
  }, 60_000)

  it.runIf(postgresInstalled)("the lowest live broker moves leaders to live replicas and back to the preferred one", async () => {
    const url = await pg!.createDatabase()
    let nodes: Array<Node> = await run(Effect.all([start(url, 1), start(url, 2), start(url, 3)], { concurrency: "unbounded" }))
    const byId = (id: number) => nodes.find((n) => n.nodeId === id)!
    try {
      for (const n of nodes) await run(until(`live at ${n.nodeId}`, () => n.membership.cluster.live(), sameIds([1, 2, 3])))
      // Partition p: replicas rotated from node p % 3 + 1, led by the first; "solo" has one replica, node 3.
      const replicasOf = (p: number) => [0, 1, 2].map((i) => ((p + i) % 3) + 1)
      await run(byId(2).metadata.update(() =>
        Effect.succeed({
          records: [
            ...bootstrapRecords(),
            ...topicRecords("orders", TOPIC_ID, 3, (p) => ({ replicas: replicasOf(p), leader: replicasOf(p)[0]! })),
            ...topicRecords("solo", SOLO_ID, 1, 3)
          ],
          result: undefined
        })
      ))
      const before = await run(until("topics everywhere", () => byId(1).metadata.image, (i) => i.topics.has("solo")))
      assert.deepStrictEqual(leaders(before, "orders"), [1, 2, 3])

      // Node 2 leaves: its partition goes to its next replica (3), with a new leader epoch; the ISRs lose it.
      await run(byId(2).close)
      nodes = nodes.filter((n) => n.nodeId !== 2)
      const after = await run(until("partition 1 moved", () => byId(3).metadata.image, (i) => leaders(i, "orders")[1] === 3))
      assert.deepStrictEqual(leaders(after, "orders"), [1, 3, 3])
      const p1 = after.topics.get("orders")!.partitions[1]!
      assert.strictEqual(p1.leaderEpoch, before.topics.get("orders")!.partitions[1]!.leaderEpoch + 1)
      assert.deepStrictEqual(p1.isr, [3, 1])
      assert.deepStrictEqual(after.topics.get("orders")!.partitions[0]!.isr, [1, 3])

      // Node 3 goes too, as if it had crashed after a last heartbeat just now: after the session timeout node 1
      // leads everything, "solo" included, which gains node 1 as a replica since its only one is down.
      // (Its row is taken from it first, so its stop does not deregister it: it just stops beating.)
      const n3 = byId(3)
      await run(byId(1).sql`update brokers set last_heartbeat = now(), incarnation = 'crashed' where node_id = 3`)
      await run(n3.close)
      nodes = nodes.filter((n) => n.nodeId !== 3)
      const alone = await run(until("node 1 leads all", () => byId(1).metadata.image, (i) =>
        leaders(i, "orders").join() === "1,1,1" && leaders(i, "solo")[0] === 1))
      assert.deepStrictEqual(alone.topics.get("solo")!.partitions[0]!.replicas, [3, 1])

      // Node 2 comes back: it is the preferred leader of partition 1 again.
      nodes = [...nodes, await run(start(url, 2))]
      const back = await run(until("partition 1 back at 2", () => byId(1).metadata.image, (i) => leaders(i, "orders")[1] === 2))
      assert.deepStrictEqual(leaders(back, "orders"), [1, 2, 1])
      // Node 2 follows the metadata log to the same image.
      const expected = JSON.stringify(back.topics.get("orders"))
      await run(until("node 2's image", () => byId(2).metadata.image, (i) => JSON.stringify(i.topics.get("orders")) === expected))
    } finally {
      await run(Effect.forEach(nodes, (n) => n.close))
    }
  }, 60_000)

  // Last: it takes the shared server down for a while.
  it.runIf(postgresInstalled)("after the database was away longer than a session, nothing moves: every broker is back", async () => {
    const url = await pg!.createDatabase()
    // Node 3 beats slowly: after the outage the controller sees it dead for a while before its first beat.
    const nodes = await run(Effect.all([start(url, 1), start(url, 2), start(url, 3, SESSION_MS - 200)], { concurrency: "unbounded" }))
    try {
      for (const n of nodes) await run(until(`live at ${n.nodeId}`, () => n.membership.cluster.live(), sameIds([1, 2, 3])))
      const replicasOf = (p: number) => [0, 1, 2].map((i) => ((p + i) % 3) + 1)
      await run(nodes[0]!.metadata.update(() =>
        Effect.succeed({
          records: [...bootstrapRecords(), ...topicRecords("orders", TOPIC_ID, 3, (p) => ({ replicas: replicasOf(p), leader: replicasOf(p)[0]! }))],
          result: undefined
        })
      ))
      const before = await run(until("topic everywhere", () => nodes[2]!.metadata.image, (i) => i.topics.has("orders")))
      await pg!.halt()
      await run(Effect.sleep(`${3 * SESSION_MS} millis`))
      await pg!.resume()
      for (const n of nodes) await run(until(`live again at ${n.nodeId}`, () => n.membership.cluster.live(), sameIds([1, 2, 3]), 15_000))
      await run(Effect.sleep(`${2 * SESSION_MS} millis`))
      const after = await run(nodes[0]!.metadata.image)
      assert.deepStrictEqual(after.topics.get("orders"), before.topics.get("orders"), "no leader moved, no epoch bumped")
    } finally {
      await pg!.resume()
      await run(Effect.forEach(nodes, (n) => n.close))
    }
  }, 60_000)
})
