// A cluster of three nodes in one process (`startBroker({ brokers: 3 })`) with real clients: Metadata lists the
// three, partitions are led by all of them, a request to a node that does not lead a partition answers
// NOT_LEADER_OR_FOLLOWER and one to a node that does not coordinate a group NOT_COORDINATOR; kafkajs and
// @platformatic/kafka keep producing and a group keeps consuming across moveLeader, stopNode and startNode with
// nothing lost; a partition reassigned with kafkajs is led by its new first replica at once, with its records,
// and a preferred election gives it back to that replica; a virtual clock expels a member whose heartbeats
// stop, and `reset` starts from nothing.
import { Producer, stringSerializers } from "@platformatic/kafka"
import { Kafka, logLevel } from "kafkajs"
import { afterEach, describe, expect, test } from "vitest"
import { RawClient } from "../../src/client/RawClient.ts"
import { ElectLeaders } from "../../src/protocol/messages/ElectLeaders.ts"
import { FindCoordinator } from "../../src/protocol/messages/FindCoordinator.ts"
import { Heartbeat } from "../../src/protocol/messages/Heartbeat.ts"
import { Produce } from "../../src/protocol/messages/Produce.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { until } from "../support/Until.ts"

let broker: RunningBroker | undefined

afterEach(async () => {
  await broker?.close()
  broker = undefined
})

const kafka = (b: RunningBroker, clientId = "cluster-e2e") =>
  new Kafka({ clientId, brokers: b.bootstrap.split(","), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } })

describe("a simulated cluster", () => {
  test("Metadata lists every node, leaders are spread, misrouted requests answer 6 and 16", async () => {
    broker = await startBroker({ brokers: 3 })
    expect(broker.bootstrap.split(",")).toHaveLength(3)
    await broker.createTopic("spread", { partitions: 6 })
    const admin = kafka(broker).admin()
    await admin.connect()
    try {
      const described = await admin.describeCluster()
      expect(described.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3])
      const [topic] = (await admin.fetchTopicMetadata({ topics: ["spread"] })).topics
      const leaders = topic!.partitions.map((p) => p.leader)
      expect(new Set(leaders)).toEqual(new Set([1, 2, 3]))
      expect(topic!.partitions[0]!.replicas).toHaveLength(3)

      // Partition 0 produced to a node that does not lead it.
      const notLeader = broker.nodes().find((n) => n.nodeId !== leaders[0])!
      const raw = await RawClient.connect(notLeader.port)
      const answer = await raw.request(Produce, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: "spread", partitionData: [{ index: 0, records: encodeBatch([{ value: new TextEncoder().encode("x") }]) }] }]
      })
      expect(answer.responses[0]!.partitionResponses[0]!.errorCode).toBe(6)
      // A group's coordinator is one node; a group request to another answers NOT_COORDINATOR.
      const found = await raw.request(FindCoordinator, 3, { key: "some-group", keyType: 0, coordinatorKeys: [] })
      const other = broker.nodes().find((n) => n.nodeId !== found.nodeId)!
      raw.close()
      const elsewhere = await RawClient.connect(other.port)
      const hb = await elsewhere.request(Heartbeat, 4, { groupId: "some-group", generationId: 1, memberId: "m", groupInstanceId: null })
      expect(hb.errorCode).toBe(16)
      elsewhere.close()
    } finally {
      await admin.disconnect()
    }
  }, 30_000)

  test("kafkajs produces and a group consumes across moveLeader, stopNode and startNode; nothing is lost or written twice", async () => {
    broker = await startBroker({ brokers: 3 })
    const b = broker
    await b.createTopic("orders", { partitions: 6 })
    const client = kafka(b)
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const seen = new Set<string>()
    const consumer = client.consumer({ groupId: "orders-app", heartbeatInterval: 200, sessionTimeout: 6000 })
    await consumer.connect()
    await consumer.subscribe({ topics: ["orders"], fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) })
    // One record a send: kafkajs drops the retry of a multi-broker send to a broker that already answered it
    // (a partition whose leader moved there), so a send spans one leader here.
    let sent = 0
    const send = async (n: number) => {
      for (let i = 0; i < n; i++, sent++) await producer.send({ topic: "orders", messages: [{ key: `k${sent}`, value: `v${sent}` }] })
    }
    try {
      await send(30)
      await b.moveLeader("orders", 0, 3)
      await b.moveLeader("orders", 1, 2)
      await send(30)
      await b.stopNode(2)
      expect(b.nodes().find((n) => n.nodeId === 2)!.live).toBe(false)
      await send(30)
      await b.startNode(2)
      await send(30)
      await until("every record consumed", () => seen.size === sent, 30_000)
      const admin = client.admin()
      await admin.connect()
      const offsets = await admin.fetchTopicOffsets("orders")
      await admin.disconnect()
      // Idempotence: the log holds each record once.
      expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(sent)
      expect([...seen].sort()).toEqual(Array.from({ length: sent }, (_, i) => `v${i}`).sort())
    } finally {
      await consumer.disconnect()
      await producer.disconnect()
    }
  }, 90_000)

  test("@platformatic/kafka follows a stopped node's partitions to the others", async () => {
    broker = await startBroker({ brokers: 3 })
    const b = broker
    await b.createTopic("events", { partitions: 3 })
    const producer = new Producer({
      clientId: "cluster-platformatic",
      bootstrapBrokers: b.bootstrap.split(","),
      serializers: stringSerializers,
      retries: 10,
      retryDelay: 50
    })
    try {
      for (let i = 0; i < 9; i++) await producer.send({ messages: [{ topic: "events", key: `k${i}`, value: `a${i}` }] })
      await b.stopNode(1)
      for (let i = 0; i < 9; i++) await producer.send({ messages: [{ topic: "events", key: `k${i}`, value: `b${i}` }] })
      await b.startNode(1)
      for (let i = 0; i < 9; i++) await producer.send({ messages: [{ topic: "events", key: `k${i}`, value: `c${i}` }] })
      const offsets = kafka(b).admin()
      await offsets.connect()
      const ends = await offsets.fetchTopicOffsets("events")
      await offsets.disconnect()
      expect(ends.reduce((n, o) => n + Number(o.high), 0)).toBe(27)
    } finally {
      await producer.close()
    }
  }, 60_000)

  test("kafkajs reassigns a partition: the new replicas lead it at once, its records stay; a preferred election brings its leader back", async () => {
    broker = await startBroker({ brokers: 3 })
    const b = broker
    const client = kafka(b, "cluster-reassign")
    const admin = client.admin()
    await admin.connect()
    const producer = client.producer()
    await producer.connect()
    const partition0 = async () => (await admin.fetchTopicMetadata({ topics: ["moving"] })).topics[0]!.partitions.find((p) => p.partitionId === 0)!
    try {
      await admin.createTopics({ topics: [{ topic: "moving", numPartitions: 2, replicationFactor: 1 }] })
      const before = await partition0()
      const [x] = before.replicas as [number]
      const [y] = [1, 2, 3].filter((n) => n !== x) as [number]
      await producer.send({ topic: "moving", messages: ["a", "b", "c"].map((value) => ({ value, partition: 0 })) })

      await admin.alterPartitionReassignments({ topics: [{ topic: "moving", partitionAssignment: [{ partition: 0, replicas: [y, x] }] }] })
      const moved = await partition0()
      expect([moved.leader, moved.replicas, moved.isr]).toEqual([y, [y, x], [y, x]])
      expect((await admin.listPartitionReassignments({})).topics).toEqual([])
      await producer.send({ topic: "moving", messages: ["d", "e"].map((value) => ({ value, partition: 0 })) })
      // A broker that is not registered: refused, nothing changes.
      await expect(admin.alterPartitionReassignments({ topics: [{ topic: "moving", partitionAssignment: [{ partition: 0, replicas: [y, 9] }] }] }))
        .rejects.toThrow(/altering partition reassignments/)
      expect((await partition0()).replicas).toEqual([y, x])

      // Led by its second replica, then a preferred election (to the controller) gives it back to the first.
      await b.moveLeader("moving", 0, x)
      expect((await partition0()).leader).toBe(x)
      const controller = b.nodes().find((n) => n.nodeId === 1)!
      const raw = await RawClient.connect(controller.port)
      const election = () =>
        raw.request(ElectLeaders, 2, { electionType: 0, topicPartitions: [{ topic: "moving", partitions: [0] }], timeoutMs: 5000 })
          .then((r) => r.replicaElectionResults[0]!.partitionResult.map((p) => p.errorCode))
      try {
        expect(await election()).toEqual([0])
        expect((await partition0()).leader).toBe(y)
        expect(await election()).toEqual([84])
        // Its preferred replica stopped: not available; back, it leads again.
        await b.stopNode(y)
        expect(await election()).toEqual([80])
        await b.startNode(y)
        expect(await election()).toEqual([84])
      } finally {
        raw.close()
      }
      await producer.send({ topic: "moving", messages: [{ value: "f", partition: 0 }] })

      const seen: Array<string> = []
      const consumer = client.consumer({ groupId: "moving-reader" })
      await consumer.connect()
      await consumer.subscribe({ topics: ["moving"], fromBeginning: true })
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) })
      try {
        await until("every record read", () => seen.length >= 6, 20_000)
        expect(seen).toEqual(["a", "b", "c", "d", "e", "f"])
      } finally {
        await consumer.disconnect()
      }
    } finally {
      await producer.disconnect()
      await admin.disconnect()
    }
  }, 60_000)

  test("reset leaves no topics, groups or recorded requests, on the same ports", async () => {
    broker = await startBroker({ brokers: 2 })
    const before = broker.bootstrap
    await broker.createTopic("gone", { partitions: 2 })
    const admin = kafka(broker).admin()
    await admin.connect()
    expect(await admin.listTopics()).toContain("gone")
    await admin.disconnect()
    await broker.reset()
    expect(broker.requests()).toEqual([])
    const again = kafka(broker).admin()
    await again.connect()
    expect(await again.listTopics()).toEqual([])
    expect((await again.listGroups()).groups).toEqual([])
    await again.disconnect()
    expect(broker.bootstrap).toBe(before)
  }, 30_000)
})
