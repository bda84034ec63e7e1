// Consumer groups with several members, through real clients. kafkajs 2.2.4: two consumers share a 4-partition
// topic (2 partitions each), one leaves with LeaveGroup and the other takes over every partition; one crashes (a
// child process killed with SIGKILL, so no LeaveGroup) and is expired after its session timeout. In both cases
// every record is consumed exactly once across the group, resuming from committed offsets. librdkafka through
// `kcat -G`: a whole multi-partition topic is read once and committed; the next run in the group resumes after
// the committed offsets, also across a broker process restart; the group is listed and described with kafkajs's
// admin. The rebalance times are printed once at the end (not asserted: they depend on the machine).
import { requireClient } from "../support/Installed.ts"
import { AssignerProtocol, Kafka, logLevel } from "kafkajs"
import type { Admin, Consumer } from "kafkajs"
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { performance } from "node:perf_hooks"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import * as BrokerProcess from "../support/BrokerProcess.ts"
import { kcat, kcatInstalled } from "../support/Kcat.ts"
import { until as untilWithin } from "../support/Until.ts"
import { filterWarnings, restoreWarnings } from "../support/KafkajsWarnings.ts"

const root = resolve(import.meta.dirname, "../..")
const PARTITIONS = 4
const SESSION_TIMEOUT_MS = 6_000
const HEARTBEAT_INTERVAL_MS = 500
/** How long any group change may take before a test gives up: generous, never a timing assertion. */
const PATIENCE_MS = SESSION_TIMEOUT_MS + 20_000

/** Waits as long as a change of this kind may take here. */
const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = PATIENCE_MS) => untilWithin(what, check, timeoutMs)

/** Per test: several group changes, each allowed PATIENCE_MS (vitest's default here is 30 s). */
const TEST_TIMEOUT_MS = 60_000

/** Rebalance times measured along the way, printed once in afterAll. */
const timings: Record<string, number> = {}



interface Consumed {
  readonly by: string
  readonly partition: number
  readonly offset: number
  readonly value: string
}

/** No record lost, none consumed twice (by value, and by position). */
const expectExactlyOnce = (consumed: ReadonlyArray<Consumed>, produced: ReadonlyArray<string>) => {
  const counts = new Map<string, number>()
  for (const c of consumed) counts.set(c.value, (counts.get(c.value) ?? 0) + 1)
  const missing = produced.filter((v) => !counts.has(v))
  const duplicated = consumed.filter((c) => counts.get(c.value)! > 1).map((c) => `${c.value} (${c.by}, ${c.partition}@${c.offset})`)
  const unexpected = consumed.filter((c) => !produced.includes(c.value)).map((c) => c.value)
  expect({ missing, duplicated, unexpected }).toEqual({ missing: [], duplicated: [], unexpected: [] })
  expect(new Set(consumed.map((c) => `${c.partition}@${c.offset}`)).size).toBe(consumed.length)
  expect(consumed).toHaveLength(produced.length)
}

const sorted = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)

/** Each partition's committed offset and high watermark, by partition. */
const committedAndHigh = async (admin: Admin, groupId: string, topic: string) => {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
  const highs = await admin.fetchTopicOffsets(topic)
  return sorted(highs.map((h) => h.partition)).map((partition) => ({
    partition,
    committed: committed!.partitions.find((p) => p.partition === partition)?.offset,
    high: highs.find((h) => h.partition === partition)!.high
  }))
}

const allCommitted = async (admin: Admin, groupId: string, topic: string) =>
  (await committedAndHigh(admin, groupId, topic)).every((p) => p.committed === p.high)

/** The group's members with their assigned partitions of `topic`, as DescribeGroups reports them. */
const describeMembers = async (admin: Admin, groupId: string, topic: string) => {
  const { groups } = await admin.describeGroups([groupId])
  const group = groups[0]!
  return {
    state: group.state,
    protocolType: group.protocolType,
    members: group.members.map((m) => ({
      clientId: m.clientId,
      partitions: sorted(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? [])
    }))
  }
}

// ---------------------------------------------------------------------------------------------------------
// kafkajs

describe("kafkajs 2.2.4: a group of two consumers", () => {
  let logDir: string
  let broker: RunningBroker
  let kafka: Kafka
  let admin: Admin
  const cleanups: Array<() => Promise<unknown> | unknown> = []

  beforeAll(async () => {
    filterWarnings()
    logDir = mkdtempSync(join(tmpdir(), "groups-e2e-"))
    broker = await startBroker({
      storage: "disk",
      logDir,
      logLevel: "Error",
      // The first generation of a new group need not wait 3 s for more members.
      config: { "group.initial.rebalance.delay.ms": "0" }
    })
    kafka = new Kafka({
      clientId: "groups-e2e",
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 50 }
    })
    admin = kafka.admin()
    await admin.connect()
  })

  afterAll(async () => {
    // Whatever a failed test left running, newest first.
    for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined)
    await admin?.disconnect()
    await broker?.close()
    rmSync(logDir, { recursive: true, force: true })
    restoreWarnings()
  })

  /** Produces `count` values named after `phase`, spread evenly over the partitions; returns the values. */
  const produce = async (topic: string, phase: string, count: number): Promise<Array<string>> => {
    const producer = kafka.producer()
    await producer.connect()
    try {
      const values = Array.from({ length: count }, (_, i) => `${phase}-${i}`)
      await producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ partition: i % PARTITIONS, value })) })
      return values
    } finally {
      await producer.disconnect()
    }
  }

  interface Member {
    readonly name: string
    readonly consumer: Consumer
    /** Every GROUP_JOIN (join + sync done) with the partitions it was given. */
    readonly joins: Array<{ readonly at: number; readonly partitions: ReadonlyArray<number> }>
    readonly crashes: Array<unknown>
    readonly partitions: () => ReadonlyArray<number> | undefined
  }

  /** A kafkajs consumer in the group; it records its joins (startMember runs it). */
  const member = (name: string, groupId: string, topic: string): Member => {
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      // kafkajs heartbeats between fetches: a short fetch wait lets it see a rebalance soon.
      maxWaitTimeInMs: 100,
      retry: { retries: 5, initialRetryTime: 50 }
    })
    const joins: Array<{ at: number; partitions: ReadonlyArray<number> }> = []
    const crashes: Array<unknown> = []
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      joins.push({ at: performance.now(), partitions: sorted(e.payload.memberAssignment[topic] ?? []) })
    })
    consumer.on(consumer.events.CRASH, (e) => void crashes.push(e.payload.error))
    cleanups.push(() => consumer.disconnect())
    return { name, consumer, joins, crashes, partitions: () => joins.at(-1)?.partitions }
  }

  const startMember = async (m: Member, topic: string, sink: Array<Consumed>) => {
    await m.consumer.connect()
    await m.consumer.subscribe({ topics: [topic], fromBeginning: true })
    // autoCommit (the default): kafkajs commits the offsets resolved by eachMessage after each batch.
    await m.consumer.run({
      eachMessage: async ({ partition, message }) => {
        sink.push({ by: m.name, partition, offset: Number(message.offset), value: message.value!.toString() })
      }
    })
  }

  const owns = (m: { partitions: () => ReadonlyArray<number> | undefined }, count: number) => m.partitions()?.length === count

  /** Both members own two partitions each, together all of them. */
  const splitEvenly = (a: Member | { partitions: () => ReadonlyArray<number> | undefined }, b: typeof a) =>
    owns(a, 2) && owns(b, 2) && sorted([...a.partitions()!, ...b.partitions()!]).join() === "0,1,2,3"

  test("share the partitions 2 + 2, and after one leaves the other owns all 4; every record is consumed once", async () => {
    const topic = "groups-leave"
    const groupId = "groups-leave-readers"
    await broker.createTopic(topic, { partitions: PARTITIONS })
    const consumed: Array<Consumed> = []
    const produced: Array<string> = []
    const first = member("first", groupId, topic)
    const second = member("second", groupId, topic)

    // The first consumer alone: all 4 partitions; it reads and commits what is there.
    await startMember(first, topic, consumed)
    await until("the first consumer to own all 4 partitions", () => owns(first, 4))
    produced.push(...await produce(topic, "alone", 40))
    await until("the first consumer to read everything", () => consumed.length === produced.length)
    await until("the first consumer's commits", () => allCommitted(admin, groupId, topic))

    // The second joins: the first is told to rejoin (through its heartbeat) and they split 2 + 2. The second
    // starts on its partitions from the first's committed offsets.
    const joinStarted = performance.now()
    await startMember(second, topic, consumed)
    await until("both consumers to own 2 partitions each", () => splitEvenly(first, second))
    timings["kafkajs: 2nd consumer connects → both assigned 2+2"] =
      Math.max(first.joins.at(-1)!.at, second.joins.at(-1)!.at) - joinStarted
    const described = await describeMembers(admin, groupId, topic)
    expect(described.state).toBe("Stable")
    expect(described.protocolType).toBe("consumer")
    expect(sorted(described.members.flatMap((m) => m.partitions))).toEqual([0, 1, 2, 3])
    expect(described.members.map((m) => m.partitions.length)).toEqual([2, 2])

    // Both consume, and commit, while records arrive on every partition.
    for (let round = 0; round < 4; round++) produced.push(...await produce(topic, `both-${round}`, 40))
    await until("the group to read everything", () => consumed.length >= produced.length)
    expect(new Set(consumed.filter((c) => c.value.startsWith("both-")).map((c) => c.by))).toEqual(new Set(["first", "second"]))

    // The second leaves (disconnect: its last commit, then LeaveGroup). Its commits are in; the first takes
    // over its partitions from them, without waiting for a session timeout.
    const leaveStarted = performance.now()
    await second.consumer.disconnect()
    timings["kafkajs: disconnect (last commit + LeaveGroup)"] = performance.now() - leaveStarted
    expect(await committedAndHigh(admin, groupId, topic)).toEqual(
      [0, 1, 2, 3].map((partition) => ({ partition, committed: String(produced.length / PARTITIONS), high: String(produced.length / PARTITIONS) }))
    )
    await until("the first consumer to own all 4 partitions again", () => owns(first, 4))
    timings["kafkajs: 2nd consumer disconnects → 1st owns all 4"] = first.joins.at(-1)!.at - leaveStarted
    expect((await describeMembers(admin, groupId, topic)).members).toEqual([{ clientId: "groups-e2e", partitions: [0, 1, 2, 3] }])

    produced.push(...await produce(topic, "after-leave", 40))
    await until("the first consumer to read what came after the leave", () => consumed.length >= produced.length)
    await until("the first consumer's commits", () => allCommitted(admin, groupId, topic))
    await first.consumer.disconnect()

    expectExactlyOnce(consumed, produced)
    expect(consumed.filter((c) => c.value.startsWith("after-leave")).every((c) => c.by === "first")).toBe(true)
    expect([...first.crashes, ...second.crashes]).toEqual([])
    expect(await describeMembers(admin, groupId, topic)).toMatchObject({ state: "Empty", members: [] })
  }, TEST_TIMEOUT_MS)

  test("a consumer that dies without leaving is expired after its session timeout; the survivor takes over", async () => {
    const topic = "groups-crash"
    const groupId = "groups-crash-readers"
    await broker.createTopic(topic, { partitions: PARTITIONS })
    const consumed: Array<Consumed> = []
    const produced: Array<string> = []
    const survivor = member("survivor", groupId, topic)
    await startMember(survivor, topic, consumed)
    await until("the survivor to own all 4 partitions", () => owns(survivor, 4))

    // The victim: kafkajs in a child process, killed with SIGKILL later: its sockets close, no LeaveGroup is sent.
    const victim = startVictim(broker.bootstrap, groupId, topic, consumed)
    cleanups.push(() => victim.kill())
    await until("both consumers to own 2 partitions each", () => splitEvenly(survivor, victim))

    for (let round = 0; round < 3; round++) produced.push(...await produce(topic, `both-${round}`, 40))
    await until("the group to read everything", () => consumed.length >= produced.length)
    expect(new Set(consumed.map((c) => c.by))).toEqual(new Set(["survivor", "victim"]))
    // What the victim read is committed before it dies, so nothing is read twice.
    await until("both consumers' commits", () => allCommitted(admin, groupId, topic))

    const crashed = performance.now()
    await victim.kill()
    // Connections closing do not remove a member of a classic group: it stays until its session times out.
    expect((await describeMembers(admin, groupId, topic)).members).toHaveLength(2)
    // Records arriving meanwhile wait on the victim's partitions for the survivor.
    produced.push(...await produce(topic, "while-dead", 20))
    await until("the survivor to own all 4 partitions after the victim's session timeout", () => owns(survivor, 4))
    timings["kafkajs: 2nd consumer killed (SIGKILL) → survivor owns all 4"] = survivor.joins.at(-1)!.at - crashed
    expect((await describeMembers(admin, groupId, topic)).members).toEqual([{ clientId: "groups-e2e", partitions: [0, 1, 2, 3] }])

    produced.push(...await produce(topic, "after-crash", 20))
    await until("the survivor to read everything", () => consumed.length >= produced.length)
    await until("the survivor's commits", () => allCommitted(admin, groupId, topic))
    await survivor.consumer.disconnect()

    expectExactlyOnce(consumed, produced)
    expect(consumed.filter((c) => /^(while-dead|after-crash)/.test(c.value)).every((c) => c.by === "survivor")).toBe(true)
    expect(survivor.crashes).toEqual([])
    expect(victim.errors()).toEqual([])
  }, TEST_TIMEOUT_MS)
})

// A kafkajs consumer in a child process that reports, one JSON line each, its joins and what it consumes.
const VICTIM_SCRIPT = `
const { Kafka, logLevel } = require("kafkajs")
const { BROKER, GROUP, TOPIC, SESSION_TIMEOUT, HEARTBEAT_INTERVAL } = process.env
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n")
process.removeAllListeners("warning")
const kafka = new Kafka({ clientId: "victim", brokers: [BROKER], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 } })
const consumer = kafka.consumer({
  groupId: GROUP,
  sessionTimeout: Number(SESSION_TIMEOUT),
  heartbeatInterval: Number(HEARTBEAT_INTERVAL),
  maxWaitTimeInMs: 100
})
consumer.on(consumer.events.GROUP_JOIN, (e) => out({ type: "join", partitions: e.payload.memberAssignment[TOPIC] || [] }))
consumer.on(consumer.events.CRASH, (e) => out({ type: "error", message: String(e.payload.error) }))
;(async () => {
  await consumer.connect()
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) =>
      out({ type: "message", partition, offset: Number(message.offset), value: message.value.toString() })
  })
})().catch((e) => out({ type: "error", message: String(e) }))
`

const startVictim = (bootstrap: string, groupId: string, topic: string, sink: Array<Consumed>) => {
  const child: ChildProcess = spawn(join(root, "node_modules/.bin/node"), ["-e", VICTIM_SCRIPT], {
    cwd: root,
    env: {
      ...process.env,
      BROKER: bootstrap,
      GROUP: groupId,
      TOPIC: topic,
      SESSION_TIMEOUT: String(SESSION_TIMEOUT_MS),
      HEARTBEAT_INTERVAL: String(HEARTBEAT_INTERVAL_MS)
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const exited = new Promise<void>((r) => child.once("exit", () => r()))
  const joins: Array<{ at: number; partitions: ReadonlyArray<number> }> = []
  const errors: Array<string> = []
  let stderr = ""
  let buffered = ""
  child.stderr!.on("data", (d) => (stderr += d))
  child.stdout!.on("data", (d) => {
    buffered += d
    const lines = buffered.split("\n")
    buffered = lines.pop()!
    for (const line of lines) {
      const event = JSON.parse(line) as
        | { type: "join"; partitions: Array<number> }
        | { type: "message"; partition: number; offset: number; value: string }
        | { type: "error"; message: string }
      if (event.type === "join") joins.push({ at: performance.now(), partitions: sorted(event.partitions) })
      else if (event.type === "message") sink.push({ by: "victim", partition: event.partition, offset: event.offset, value: event.value })
      else errors.push(event.message)
    }
  })
  return {
    partitions: () => joins.at(-1)?.partitions,
    errors: () => (errors.length > 0 ? [...errors, stderr] : []),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
      await exited
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// librdkafka through kcat -G

requireClient("kcat", kcatInstalled, "apt-get install -y kcat")

describe.runIf(kcatInstalled)("librdkafka (kcat -G)", () => {
  let broker: BrokerProcess.BrokerProcess | undefined
  let admin: Admin | undefined
  const live: Array<ChildProcess> = []

  afterAll(async () => {
    for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    await admin?.disconnect()
    await broker?.stop()
    if (broker !== undefined) rmSync(broker.logDir, { recursive: true, force: true })
  })

  const startProcess = (logDir?: string) =>
    BrokerProcess.startBroker({ ...(logDir === undefined ? {} : { logDir }), properties: { "group.initial.rebalance.delay.ms": "0" } })

  const connectAdmin = async (port: number) => {
    await admin?.disconnect()
    const kafka = new Kafka({ clientId: "groups-kcat-admin", brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING })
    admin = kafka.admin()
    await admin.connect()
    return admin
  }

  test("reads a 4-partition topic once in a group, commits, and the group resumes after its offsets, also after a restart", async () => {
    const topic = "kcat-groups"
    const groupId = "kcat-readers"
    const logDir = BrokerProcess.makeLogDir()
    await BrokerProcess.writeTopics(logDir, { [topic]: PARTITIONS })
    broker = await startProcess(logDir)
    const bootstrap = () => `127.0.0.1:${broker!.port}`

    /** Keyed values: librdkafka's partitioner spreads the keys over the partitions. */
    const produce = async (phase: string, count: number) => {
      const values = Array.from({ length: count }, (_, i) => `${phase}-${i}`)
      await kcat(["-b", bootstrap(), "-P", "-t", topic, "-K", "\t", "-X", "acks=all"], values.map((v) => `key-${v}\t${v}`).join("\n") + "\n")
      return values
    }
    /**
     * One `kcat -G` run to the end of every assigned partition. `-o` in -G mode overrides the committed offsets on
     * assignment, so only the first run passes `-o beginning`; the others resume from the committed offsets, and
     * with auto.offset.reset=earliest they would read everything again if the commits were missing.
     */
    const consume = async (extra: ReadonlyArray<string> = []): Promise<Array<Consumed>> => {
      const out = await kcat(["-b", bootstrap(), "-G", groupId, ...extra, "-X", "auto.offset.reset=earliest", "-e", "-J", "-q", topic])
      return out.split("\n").filter((l) => l !== "").map((l) => {
        const m = JSON.parse(l) as { partition: number; offset: number; payload: string }
        return { by: "kcat", partition: m.partition, offset: m.offset, value: m.payload }
      })
    }
    const expectCommittedAtEnd = async () => {
      for (const p of await committedAndHigh(admin!, groupId, topic)) expect(p.committed, `partition ${p.partition}`).toBe(p.high)
    }

    const first = await produce("first", 80)
    const read1 = await consume(["-o", "beginning"])
    expectExactlyOnce(read1, first)
    expect(sorted([...new Set(read1.map((c) => c.partition))])).toEqual([0, 1, 2, 3])
    await connectAdmin(broker.port)
    await expectCommittedAtEnd()

    // A second run in the group sees only what came since.
    const second = await produce("second", 20)
    expectExactlyOnce(await consume(), second)
    await expectCommittedAtEnd()

    // Listed and described through kafkajs's admin (kcat cannot list groups): empty once kcat has left.
    expect((await admin!.listGroups()).groups).toContainEqual({ groupId, protocolType: "consumer" })
    expect(await describeMembers(admin!, groupId, topic)).toEqual({ state: "Empty", protocolType: "consumer", members: [] })

    // The broker process restarts on the same log dir: the committed offsets are read back.
    await admin!.disconnect()
    admin = undefined
    await broker.stop()
    broker = await startProcess(logDir)
    await connectAdmin(broker.port)
    await expectCommittedAtEnd()
    const third = await produce("third", 20)
    expectExactlyOnce(await consume(), third)
    await expectCommittedAtEnd()

    // A kcat that stays in the group is a described member owning every partition; SIGTERM makes it leave.
    const child = spawn("kcat", ["-b", bootstrap(), "-G", groupId, "-X", "auto.offset.reset=earliest", "-q", topic], { stdio: "ignore" })
    live.push(child)
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
    await until("kcat to own every partition", async () => {
      const described = await describeMembers(admin!, groupId, topic)
      return described.state === "Stable" && described.members.length === 1 && described.members[0]!.partitions.length === PARTITIONS
    })
    expect(await describeMembers(admin!, groupId, topic)).toEqual({
      state: "Stable",
      protocolType: "consumer",
      members: [{ clientId: "rdkafka", partitions: [0, 1, 2, 3] }]
    })
    child.kill("SIGTERM")
    expect(await exited).toBe(0)
    await until("the group to be empty after kcat left", async () => (await describeMembers(admin!, groupId, topic)).state === "Empty")
    await expectCommittedAtEnd()
  }, TEST_TIMEOUT_MS)
})

afterAll(() => {
  if (Object.keys(timings).length > 0) {
    console.log(
      `[Groups.test.ts] rebalance times (session timeout ${SESSION_TIMEOUT_MS} ms, heartbeat interval ${HEARTBEAT_INTERVAL_MS} ms):\n` +
        Object.entries(timings).map(([what, ms]) => `  ${what}: ${ms.toFixed(0)} ms`).join("\n")
    )
  }
})
