// Group and transaction coordinators of brokers over one PostgreSQL database (services/cluster/Coordination.ts):
// each follows the offsets and transaction logs, serves only the keys the live brokers place on it, and takes a
// key over with its state when the brokers change. Whole brokers (Broker.layer: listeners on free ports,
// registered and heartbeating) in one process, driven through their coordinator services.
import { Context, Effect, Exit, Layer, Logger, Scope } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { topicRecords } from "../../src/protocol/MetadataRecords.ts"
import * as Broker from "../../src/layers/Broker.ts"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { coordinatorOf } from "../../src/services/cluster/Cluster.ts"
import { SharedCoordinators } from "../../src/services/cluster/Coordination.ts"
import { BrokerConfig } from "../../src/services/config/BrokerConfig.ts"
import { GroupCoordinator, type JoinRequest } from "../../src/services/group/GroupCoordinator.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { TransactionCoordinator } from "../../src/services/txn/TransactionCoordinator.ts"
import { type Postgres, postgresInstalled, requirePostgres, startPostgres } from "../support/Postgres.ts"

let pg: Postgres | undefined

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect.pipe(Effect.provide(Logger.layer([]))))

interface Node {
  readonly nodeId: number
  readonly live: () => ReadonlyArray<number>
  readonly groups: GroupCoordinator["Service"]
  readonly txns: TransactionCoordinator["Service"]
  readonly metadata: ClusterMetadata["Service"]
  /** A clean stop: deregisters. */
  readonly stop: () => Promise<void>
}

const startNode = async (url: string, nodeId: number): Promise<Node> => {
  const scope = await run(Scope.make())
  const config = Layer.mergeAll(
    MemoryFileSystem.layerWith(MemoryFileSystem.make()),
    BrokerConfig.layerFrom({
      "node.id": String(nodeId),
      "log.dirs": "/data",
      "listeners": "PLAINTEXT://127.0.0.1:0",
      "storage.url": url,
      "broker.heartbeat.interval.ms": "100",
      "broker.session.timeout.ms": "1000",
      // Joins wait (parked) until the test says otherwise.
      "group.initial.rebalance.delay.ms": "60000"
    })
  )
  const context = await run(Layer.buildWithScope(Broker.layer(config), scope))
  return {
    nodeId,
    // Provided over PostgreSQL only, so not in the layer's type.
    live: () => Context.get(context as unknown as Context.Context<SharedCoordinators>, SharedCoordinators).live(),
    groups: Context.get(context, GroupCoordinator),
    txns: Context.get(context, TransactionCoordinator),
    metadata: Context.get(context, ClusterMetadata),
    stop: () => run(Scope.close(scope, Exit.void))
  }
}

/** The coordinators look at the live brokers at least every half second (layers/cluster/CoordinatorLog.ts). */
const coordinatorsCaughtUp = () => new Promise((r) => setTimeout(r, 1000))

/** Retries `f` until it succeeds (failures: the error's tag) and `check` holds. */
const until = async <A>(what: string, f: () => Effect.Effect<A, { readonly _tag: string }>, check: (a: A) => boolean = () => true) => {
  const deadline = Date.now() + 10_000
  let last: unknown
  for (;;) {
    const exit = await Effect.runPromiseExit(f())
    if (Exit.isSuccess(exit)) {
      if (check(exit.value)) return exit.value
      last = exit.value
    } else {
      last = exit.cause
    }
    if (Date.now() > deadline) throw new Error(`${what}: still ${String(last)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const failure = async (effect: Effect.Effect<unknown, { readonly _tag: string }>) => {
  const exit = await Effect.runPromiseExit(effect)
  return Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? (exit.cause.reasons[0].error as { _tag: string })._tag : "succeeded"
}

/** A key the live set `before` places on `a` and `after` on `b`. */
const keyMoving = (prefix: string, before: ReadonlyArray<number>, a: number, after: ReadonlyArray<number>, b: number) => {
  for (let i = 0; ; i++) {
    const key = `${prefix}-${i}`
    if (coordinatorOf(before, key) === a && coordinatorOf(after, key) === b) return key
  }
}

const joinRequest = (groupId: string, clientId: string): JoinRequest => ({
  groupId,
  memberId: "",
  groupInstanceId: null,
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
  protocolType: "consumer",
  protocols: [{ name: "range", metadata: new Uint8Array([1]) }],
  clientId,
  clientHost: "/127.0.0.1",
  requireKnownMemberId: false,
  supportsSkipAssignment: false
})

const offset = (value: number) => [{ topic: "events", partition: 0, offset: value, leaderEpoch: -1, metadata: "" }]
const NOBODY = { memberId: "", groupInstanceId: null }
const committedAt = (node: Node, groupId: string) =>
  Effect.map(node.groups.committed(groupId, [{ topic: "events", partitions: [0] }]), (r) => r[0]?.committed?.offset)

describe("coordinators of brokers over PostgreSQL", () => {
  requirePostgres()
  beforeAll(async () => {
    if (postgresInstalled) pg = await startPostgres()
  }, 60_000)
  afterAll(() => pg?.stop())

  it.runIf(postgresInstalled)("a group is served by one broker, followed by the others, and taken over with its offsets when the brokers change", async () => {
    const url = await pg!.createDatabase()
    const nodes: Array<Node> = [await startNode(url, 1), await startNode(url, 2)]
    try {
      for (const n of nodes) await until(`both live at ${n.nodeId}`, () => Effect.sync(n.live), (l) => l.join() === "1,2")
      await coordinatorsCaughtUp()
      const [n1, n2] = nodes as [Node, Node]
      await run(n1.metadata.update(() => Effect.succeed({ records: topicRecords("events", "00000000-0000-4000-8000-0000000000e1", 1, () => ({ replicas: [1, 2], leader: 1 })), result: undefined })))
      await until("topic at 2", () => n2.metadata.image, (i) => i.topics.has("events"))

      // Placed on 1 while brokers 1 and 2 are live, on 3 once 3 joins.
      const group = keyMoving("group", [1, 2], 1, [1, 2, 3], 3)
      assert.deepStrictEqual(await run(n1.groups.commit(group, -1, NOBODY, offset(42))), [undefined])
      // Broker 2 follows the offsets log: it answers the commit too, but does not serve the group.
      await until("broker 2 follows the commit", () => committedAt(n2, group), (o) => o === 42)
      assert.strictEqual(await failure(n2.groups.commit(group, -1, NOBODY, offset(7))), "NotCoordinator")
      assert.strictEqual(await failure(n2.groups.join(joinRequest(group, "c2"))), "NotCoordinator")

      // A member waits in JoinGroup at broker 1 (the initial rebalance delay is long) when broker 3 starts.
      const parked = Effect.runPromiseExit(n1.groups.join(joinRequest(group, "c1")))
      await new Promise((r) => setTimeout(r, 100))
      const n3 = await startNode(url, 3)
      nodes.push(n3)
      // The parked join is answered NOT_COORDINATOR: its member goes to find the group's new coordinator.
      const exit = await parked
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "no longer coordinates")
      // Broker 3 serves it with the offset committed at broker 1; broker 1 refuses it now.
      await until("broker 3 serves the group", () => n3.groups.commit(group, -1, NOBODY, offset(43)))
      assert.strictEqual(await run(committedAt(n3, group)), 43)
      assert.strictEqual(await failure(n1.groups.commit(group, -1, NOBODY, offset(8))), "NotCoordinator")
      await until("broker 1 follows broker 3", () => committedAt(n1, group), (o) => o === 43)
    } finally {
      for (const n of nodes.reverse()) await n.stop()
    }
  }, 60_000)

  it.runIf(postgresInstalled)("a transaction begun at one coordinator is verified elsewhere at once and committed by the broker that takes its id over", async () => {
    const url = await pg!.createDatabase()
    const nodes: Array<Node> = [await startNode(url, 1), await startNode(url, 2), await startNode(url, 3)]
    try {
      for (const n of nodes) await until(`all live at ${n.nodeId}`, () => Effect.sync(n.live), (l) => l.join() === "1,2,3")
      await coordinatorsCaughtUp()
      const [n1, n2, n3] = nodes as [Node, Node, Node]
      await run(n1.metadata.update(() => Effect.succeed({ records: topicRecords("events", "00000000-0000-4000-8000-0000000000e2", 1, () => ({ replicas: [1, 2, 3], leader: 1 })), result: undefined })))
      await until("topic at 3", () => n3.metadata.image, (i) => i.topics.has("events"))

      const id = keyMoving("txn", [1, 2, 3], 2, [1, 3], 3)
      const producer = await run(n2.txns.initProducerId(id, 60_000, undefined))
      await run(n2.txns.addPartitions(id, producer, [{ topic: "events", partition: 0 }]))
      // The partition's leader checks the producer against the state it follows, read again on a miss.
      await run(n1.txns.verify(id, producer, { topic: "events", partition: 0 }))
      assert.strictEqual(await failure(n1.txns.endTransaction(id, producer, true, 0)), "NotCoordinator")

      // Broker 2 stops: broker 3 takes the id over, open transaction included, and commits it.
      await n2.stop()
      nodes.splice(1, 1)
      await until("broker 3 commits", () => n3.txns.endTransaction(id, producer, true, 0))
      const described = await until("complete", () => n3.txns.describe(id), (d) => d.state === "CompleteCommit")
      assert.strictEqual(described.producerId, producer.producerId)
      await until("broker 1 follows", () => n1.txns.describe(id), (d) => d.state === "CompleteCommit")
    } finally {
      for (const n of nodes.reverse()) await n.stop()
    }
  }, 60_000)
})
