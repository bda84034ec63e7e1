// AlterPartitionReassignments and ElectLeaders in a cluster of several nodes, through their handlers over the
// in-memory file system with a `Cluster` whose registered and live nodes a test sets: Kafka's validation and
// errors, a valid reassignment written at once as one PartitionChangeRecord per changed partition (the new
// replicas, the live ones as ISR, the first live one leading, the leader epoch bumping only when the leader
// changes), preferred and unclean elections, and the controller's reconciliation (services/cluster/Leadership.ts)
// finding nothing to undo afterwards, also for a broker registered after the topic was created.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ErrorCode } from "../../src/protocol/ErrorCode.ts"
import { type NewMetadataRecord, topicRecords } from "../../src/protocol/MetadataRecords.ts"
import * as AlterPartitionReassignments from "../../src/services/api/AlterPartitionReassignments.ts"
import * as ElectLeaders from "../../src/services/api/ElectLeaders.ts"
import * as ListPartitionReassignments from "../../src/services/api/ListPartitionReassignments.ts"
import { Cluster, type ClusterShape } from "../../src/services/cluster/Cluster.ts"
import { leadershipChanges } from "../../src/services/cluster/Leadership.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { callResponse, fresh, topicIdOf } from "../support/TestLayers.ts"

/** A cluster whose registered and live nodes the test changes as it goes. */
const makeCluster = (nodeIds: Array<number>, live: Array<number> = nodeIds) => {
  const state = { nodeIds, live }
  const cluster: ClusterShape = {
    get nodeIds() {
      return state.nodeIds
    },
    live: () => state.live,
    endpoint: () => undefined
  }
  return { state, cluster }
}

const write = (records: ReadonlyArray<NewMetadataRecord>) =>
  Effect.gen(function*() {
    yield* (yield* ClusterMetadata).update(() => Effect.succeed({ records, result: undefined }))
  }).pipe(Effect.orDie)

const image = Effect.gen(function*() {
  return yield* (yield* ClusterMetadata).image
})

const ORDERS = topicIdOf("orders")
/** orders: 4 partitions over nodes 1-3, each led by its first replica. */
const seedOrders = write(topicRecords("orders", ORDERS, 4, (p) => {
  const replicas = [0, 1, 2].map((i) => ((p + i) % 3) + 1)
  return { replicas, leader: replicas[0]! }
}))

const partitions = (topic = "orders") => Effect.map(image, (i) => i.topics.get(topic)!.partitions)

const state = (topic = "orders") =>
  Effect.map(partitions(topic), (ps) => ps.map((p) => ({ replicas: p.replicas, isr: p.isr, leader: p.leader, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch })))

const alter = (partitions: ReadonlyArray<[string, number, Array<number> | null]>, version = 1, allowReplicationFactorChange = true) =>
  Effect.map(
    callResponse(AlterPartitionReassignments.make, version, {
      timeoutMs: 1000,
      allowReplicationFactorChange,
      topics: partitions.map(([name, partitionIndex, replicas]) => ({ name, partitions: [{ partitionIndex, replicas }] }))
    }),
    (r) => {
      assert.deepStrictEqual([r.errorCode, r.errorMessage], [ErrorCode.NONE, null])
      return r.responses.map((t) => [t.name, t.partitions[0]!.partitionIndex, t.partitions[0]!.errorCode, t.partitions[0]!.errorMessage])
    }
  )

const elect = (topicPartitions: ReadonlyArray<{ topic: string; partitions: Array<number> }> | null, electionType: number, version = 2) =>
  Effect.map(
    callResponse(ElectLeaders.make, version, { electionType, topicPartitions: topicPartitions === null ? null : [...topicPartitions], timeoutMs: 1000 }),
    (r) => {
      assert.strictEqual(r.errorCode, ErrorCode.NONE)
      return r.replicaElectionResults.map((t) => [t.topic, t.partitionResult.map((p) => [p.partitionId, p.errorCode, p.errorMessage])])
    }
  )

const NOT_NEEDED = "Leader election not needed for topic partition."

/** Whether the controller, seeing `live`, would change anything. */
const reconciled = (live: ReadonlyArray<number>) => Effect.map(image, (i) => leadershipChanges(i, live))

describe("AlterPartitionReassignments in a cluster", () => {
  it.effect("checks the replicas against the registered nodes with Kafka's reasons, and writes nothing for a refused one", () => {
    const { cluster } = makeCluster([1, 2, 3, 4], [1, 2, 3])
    return Effect.gen(function*() {
      yield* seedOrders
      const before = yield* state()
      for (const version of [0, 1]) {
        assert.deepStrictEqual(yield* alter([
          ["orders", 0, []],
          ["orders", 1, [1, 5]],
          ["orders", 2, [2, 3, 2]],
          ["orders", 3, null],
          ["orders", 4, [1]],
          ["nope", 0, [1]]
        ], version), [
          ["orders", 0, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes an empty replica list."],
          ["orders", 1, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes broker 5, but no such broker is registered."],
          ["orders", 2, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes the broker 2 more than once."],
          ["orders", 3, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, null],
          ["orders", 4, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find partition orders:4."],
          ["nope", 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find a topic named nope."]
        ])
      }
      // v1 without allow_replication_factor_change: the brokers are checked first, then the count.
      assert.deepStrictEqual(yield* alter([["orders", 0, [1, 2]], ["orders", 1, [1, 9]], ["orders", 2, [4, 1, 2, 3]]], 1, false), [
        ["orders", 0, ErrorCode.INVALID_REPLICATION_FACTOR, "The replication factor is changed from 3 to 2"],
        ["orders", 1, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes broker 9, but no such broker is registered."],
        ["orders", 2, ErrorCode.INVALID_REPLICATION_FACTOR, "The replication factor is changed from 3 to 4"]
      ])
      assert.deepStrictEqual(yield* state(), before)
    }).pipe(Effect.provideService(Cluster, cluster), Effect.provide(fresh()))
  })

  it.effect("applies a valid one at once: new replicas, the live ones as ISR, the first live one leading; the same replicas change nothing", () => {
    const { cluster } = makeCluster([1, 2, 3, 4], [1, 2, 3])
    return Effect.gen(function*() {
      yield* seedOrders
      // orders-0 [1,2,3] led by 1, orders-1 [2,3,1] led by 2, orders-2 [3,1,2] led by 3, orders-3 [1,2,3] led by 1.
      assert.deepStrictEqual(yield* alter([
        ["orders", 0, [1, 2, 3]],
        ["orders", 1, [3, 2, 1]],
        ["orders", 2, [3, 4]],
        ["orders", 3, [4, 1]]
      ], 1, true), [
        ["orders", 0, ErrorCode.NONE, null],
        ["orders", 1, ErrorCode.NONE, null],
        ["orders", 2, ErrorCode.NONE, null],
        ["orders", 3, ErrorCode.NONE, null]
      ])
      assert.deepStrictEqual(yield* state(), [
        // Unchanged: not even its partition epoch.
        { replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
        // Reordered: 3 is preferred and live, so it leads (a new leader epoch).
        { replicas: [3, 2, 1], isr: [3, 2, 1], leader: 3, leaderEpoch: 1, partitionEpoch: 1 },
        // Shrunk onto a node that is down: 3 leads as before (the same leader epoch), 4 is not in the ISR.
        { replicas: [3, 4], isr: [3], leader: 3, leaderEpoch: 0, partitionEpoch: 1 },
        // Moved to 4 (down) and 1: 1 leads, as it did.
        { replicas: [4, 1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 1 }
      ])
      // Nothing is in progress, and the controller has nothing to undo.
      const list = yield* callResponse(ListPartitionReassignments.make, 0, { timeoutMs: 1000, topics: null })
      assert.deepStrictEqual(list.topics, [])
      assert.deepStrictEqual(yield* reconciled([1, 2, 3]), [])
      // v0 and v1 with allow_replication_factor_change false take a list of the same length.
      assert.deepStrictEqual(yield* alter([["orders", 0, [2, 1, 3]]], 0), [["orders", 0, ErrorCode.NONE, null]])
      assert.deepStrictEqual(yield* alter([["orders", 0, [1, 2, 4]]], 1, false), [["orders", 0, ErrorCode.NONE, null]])
      assert.deepStrictEqual((yield* state())[0], { replicas: [1, 2, 4], isr: [1, 2], leader: 1, leaderEpoch: 2, partitionEpoch: 2 })
    }).pipe(Effect.provideService(Cluster, cluster), Effect.provide(fresh()))
  })

  it.effect("onto nodes none of which is up: no leader until one is, and it then leads; over PostgreSQL the controller adds a live one", () => {
    const { cluster } = makeCluster([1, 2, 3, 4], [1, 2, 3])
    return Effect.gen(function*() {
      yield* seedOrders
      assert.deepStrictEqual(yield* alter([["orders", 1, [4]]]), [["orders", 1, ErrorCode.NONE, null]])
      assert.deepStrictEqual((yield* state())[1], { replicas: [4], isr: [], leader: -1, leaderEpoch: 1, partitionEpoch: 1 })
      // Node 4 up: it leads, the reconciliation's first live replica.
      assert.deepStrictEqual(yield* reconciled([1, 2, 3, 4]), [{ type: "PartitionChange", topicId: ORDERS, partitionId: 1, leader: 4, isr: [4], replicas: null }])
      // Still down: the controller gives the partition to a live node, which joins its replicas (shared storage).
      const [change] = yield* reconciled([1, 2, 3])
      assert.deepStrictEqual(change?.type === "PartitionChange" ? change.replicas?.[0] : undefined, 4)
      assert.lengthOf(change?.type === "PartitionChange" ? change.replicas ?? [] : [], 2)
    }).pipe(Effect.provideService(Cluster, cluster), Effect.provide(fresh()))
  })

  it.effect("a broker registered after the topic was created: refused before, then given partitions it leads, kept by the controller", () => {
    const { state: nodes, cluster } = makeCluster([1, 2, 3])
    return Effect.gen(function*() {
      yield* seedOrders
      assert.deepStrictEqual(yield* alter([["orders", 0, [4, 1, 2]]]), [
        ["orders", 0, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes broker 4, but no such broker is registered."]
      ])
      // Broker 4 registers and is live: it leads no partition until one is moved to it.
      nodes.nodeIds = [1, 2, 3, 4]
      nodes.live = [1, 2, 3, 4]
      assert.deepStrictEqual(yield* reconciled([1, 2, 3, 4]), [])
      assert.isFalse((yield* partitions()).some((p) => p.leader === 4 || p.replicas.includes(4)))
      assert.deepStrictEqual(yield* alter([["orders", 0, [4, 1, 2]], ["orders", 1, [4, 3]]]), [
        ["orders", 0, ErrorCode.NONE, null],
        ["orders", 1, ErrorCode.NONE, null]
      ])
      const [p0, p1] = yield* state()
      assert.deepStrictEqual(p0, { replicas: [4, 1, 2], isr: [4, 1, 2], leader: 4, leaderEpoch: 1, partitionEpoch: 1 })
      assert.deepStrictEqual(p1, { replicas: [4, 3], isr: [4, 3], leader: 4, leaderEpoch: 1, partitionEpoch: 1 })
      assert.deepStrictEqual(yield* reconciled([1, 2, 3, 4]), [])
      // Broker 4 down: its partitions go to their next live replica; back, it leads them again.
      yield* write(yield* reconciled([1, 2, 3]))
      assert.deepStrictEqual((yield* partitions()).slice(0, 2).map((p) => [p.leader, p.isr]), [[1, [1, 2]], [3, [3]]])
      yield* write(yield* reconciled([1, 2, 3, 4]))
      assert.deepStrictEqual((yield* partitions()).slice(0, 2).map((p) => [p.leader, p.isr, p.replicas]), [[4, [4, 1, 2], [4, 1, 2]], [4, [4, 3], [4, 3]]])
    }).pipe(Effect.provideService(Cluster, cluster), Effect.provide(fresh()))
  })
})

describe("ElectLeaders in a cluster", () => {
  /** orders with partition 0 led by its second replica (2), as after node 1 was away. */
  const moved = Effect.andThen(seedOrders, write([{ type: "PartitionChange", topicId: ORDERS, partitionId: 0, leader: 2, isr: [2, 3] }]))

  it.effect("preferred: 84 when the first replica leads, 80 when it is down, else it is elected (a new leader epoch)", () => {
    const { state: nodes, cluster } = makeCluster([1, 2, 3], [2, 3])
    return Effect.gen(function*() {
      yield* moved
      for (const [type, version] of [[0, 0], [0, 1], [0, 2]] as const) {
        assert.deepStrictEqual(yield* elect([{ topic: "orders", partitions: [0, 1, 9] }, { topic: "nope", partitions: [0] }], type, version), [
          ["orders", [
            [0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, "The preferred leader was not available."],
            [1, ErrorCode.ELECTION_NOT_NEEDED, NOT_NEEDED],
            [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "No such partition as orders-9"]
          ]],
          ["nope", [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "No such topic as nope"]]]
        ])
      }
      // Node 1 up again (the controller not yet having moved it back): elected.
      nodes.live = [1, 2, 3]
      assert.deepStrictEqual(yield* elect([{ topic: "orders", partitions: [0, 1] }], 0), [
        ["orders", [[0, ErrorCode.NONE, null], [1, ErrorCode.ELECTION_NOT_NEEDED, NOT_NEEDED]]]
      ])
      assert.deepStrictEqual((yield* state())[0], { replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 2, partitionEpoch: 2 })
      assert.deepStrictEqual(yield* elect([{ topic: "orders", partitions: [0] }], 0), [["orders", [[0, ErrorCode.ELECTION_NOT_NEEDED, NOT_NEEDED]]]])
      assert.deepStrictEqual(yield* reconciled([1, 2, 3]), [])
    }).pipe(Effect.provideService(Cluster, cluster), Effect.provide(fresh()))
  })

  it.effect("unclean: 84 while the leader is live, 83 with no live replica, else the first live replica", () => {
    const { cluster } = makeCluster([1, 2, 3, 4], [2, 4])
    return Effect.gen(function*() {
      yield* seedOrders
      yield* write(topicRecords("solo", topicIdOf("solo"), 1, 3))
      // orders-0 [1,2,3] led by 1 (down), orders-1 [2,3,1] led by 2 (live), orders-2 [3,1,2] led by 3 (down).
      assert.deepStrictEqual(yield* elect([{ topic: "orders", partitions: [0, 1, 2] }, { topic: "solo", partitions: [0] }], 1), [
        ["orders", [[0, ErrorCode.NONE, null], [1, ErrorCode.ELECTION_NOT_NEEDED, NOT_NEEDED], [2, ErrorCode.NONE, null]]],
        ["solo", [[0, ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, "Eligible topic partition leaders are not available."]]]
      ])
      assert.deepStrictEqual((yield* state()).slice(0, 3).map((p) => [p.leader, p.isr, p.leaderEpoch]), [[2, [2], 1], [2, [2, 3, 1], 0], [2, [2], 1]])
      // What the controller would have done for these two.
      const elected = (yield* reconciled([2, 4])).filter((r) => r.type === "PartitionChange" && r.topicId === ORDERS && (r.partitionId === 0 || r.partitionId === 2))
      assert.deepStrictEqual(elected, [])
    }).pipe(Effect.provideService(Cluster, cluster), Effect.provide(fresh()))
  })

  it.effect("every partition (null): those needing no election left out, the others elected or refused", () => {
    const { cluster } = makeCluster([1, 2, 3], [2, 3])
    return Effect.gen(function*() {
      yield* moved
      // Preferred: orders-0's first replica (1) is down, 80; orders-3 (also first replica 1, leading) is down
      // too; the others are led by their first replica.
      assert.deepStrictEqual(yield* elect(null, 0), [
        ["orders", [
          [0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, "The preferred leader was not available."],
          [3, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, "The preferred leader was not available."]
        ]]
      ])
      // Unclean: orders-3's leader (1) is down, 2 is elected; the others have a live leader.
      assert.deepStrictEqual(yield* elect(null, 1), [["orders", [[3, ErrorCode.NONE, null]]]])
      assert.deepStrictEqual((yield* state()).map((p) => p.leader), [2, 2, 3, 2])
      assert.deepStrictEqual(yield* elect(null, 1), [["orders", []]])
    }).pipe(Effect.provideService(Cluster, cluster), Effect.provide(fresh()))
  })
})
