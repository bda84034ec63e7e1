// The Python clients in consumer groups, against a broker started in this process (disk storage, no initial
// rebalance delay): each consumer subscribes, reads to the end of every partition it is given, commits
// synchronously and leaves; the next consumer of the group resumes after the committed offsets, also after a
// broker restart (offsets are read back from __consumer_offsets). Two kafka-python consumers in one group
// split the partitions between them. The client side is the `group-consume`, `list-groups` and
// `group-offsets` commands of test/e2e/python/confluent_kafka_client.py and kafka_python_client.py.
//
// Group API versions they send (asserted below from the scripts' request logs):
// - confluent-kafka 1.7.0 / librdkafka 2.0.2: FindCoordinator v2, JoinGroup v5 (joins twice: the first answer
//   is MEMBER_ID_REQUIRED), SyncGroup v3, Heartbeat v3, OffsetFetch v7, OffsetCommit v7, LeaveGroup v1;
//   AdminClient.list_groups: ListGroups v0, DescribeGroups v0.
// - kafka-python 2.0.2: FindCoordinator v0 (its GroupCoordinatorRequest), JoinGroup v2, SyncGroup v1,
//   Heartbeat v1, OffsetFetch v1, OffsetCommit v2, LeaveGroup v1; KafkaAdminClient: ListGroups v2,
//   OffsetFetch v3. (kafka-python joins a second time right after its first join: it assigned before its
//   metadata snapshot of the topic was taken, a client quirk.)
import { requireClient } from "../support/Installed.ts"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import {
  compare,
  type Consumed,
  killScripts,
  type Placement,
  pythonHas,
  type RecordSpec,
  runScript
} from "../support/PythonClients.ts"

const confluentInstalled = pythonHas("confluent_kafka")
const kafkaPythonInstalled = pythonHas("kafka")
const CONFLUENT = "confluent_kafka_client.py"
const KAFKA_PYTHON = "kafka_python_client.py"
const config = { "group.initial.rebalance.delay.ms": "0" }
const PARTITIONS = 4

type Offsets = Record<string, number | null>

interface Produced {
  readonly records: ReadonlyArray<RecordSpec>
  readonly placements: ReadonlyArray<Placement>
}

interface GroupRun {
  readonly committedBefore: Offsets
  readonly records: Array<Consumed>
  readonly assignments: Array<Array<number>>
  /** kafka-python: the assignment at the end. */
  readonly assignment: Array<number> | undefined
  /** confluent-kafka: what commit() returned, partitions it committed nothing for left out. */
  readonly commit: Offsets | undefined
  readonly committed: Offsets
  readonly groups: Array<any> | undefined
  readonly apis: Record<string, number>
}

const GROUP_API = /^(FindCoordinator|GroupCoordinator|JoinGroup|SyncGroup|Heartbeat|LeaveGroup|OffsetCommit|OffsetFetch|ListGroups|DescribeGroups)(Request)?_v\d+$/

/** The group requests sent by any of `runs`, as "<name>_v<version>", sorted. */
const groupApis = (...runs: ReadonlyArray<{ readonly apis: Record<string, number> }>): Array<string> =>
  [...new Set(runs.flatMap((r) => Object.keys(r.apis)).filter((api) => GROUP_API.test(api)))].sort()

/** `count` records with values tagged `tag`, spread over `partitions` in turn. */
const batch = (tag: string, count: number, partitions: ReadonlyArray<number>): Array<RecordSpec> =>
  Array.from({ length: count }, (_, i) => ({ key: `${tag}-${i}`, value: `${tag} value ${i}`, partition: partitions[i % partitions.length]! }))

/** Per partition (all of them), the offset after the last record of `produced`: what a full commit leaves. */
const endsOf = (...produced: ReadonlyArray<Produced>): Offsets => {
  const ends: Record<string, number | null> = Object.fromEntries(Array.from({ length: PARTITIONS }, (_, p) => [String(p), null]))
  for (const { placements } of produced) {
    for (const { partition, offset } of placements) ends[partition] = Math.max(ends[partition] ?? 0, offset + 1)
  }
  return ends
}

const withoutNulls = (offsets: Offsets | undefined): Offsets =>
  Object.fromEntries(Object.entries(offsets ?? {}).filter(([, offset]) => offset !== null))

const only = (offsets: Offsets, partitions: ReadonlyArray<number>): Offsets =>
  Object.fromEntries(partitions.map((p) => [String(p), offsets[p] ?? null]))

const ALL = Array.from({ length: PARTITIONS }, (_, p) => p)

describe("Python clients in consumer groups", () => {
  requireClient("confluent-kafka", confluentInstalled, "apt-get install -y python3-confluent-kafka")
  requireClient("kafka-python", kafkaPythonInstalled, "apt-get install -y python3-kafka")
  let broker: RunningBroker | undefined
  const barriers: Array<string> = []

  beforeAll(async () => {
    if (confluentInstalled || kafkaPythonInstalled) broker = await startBroker({ storage: "disk", config })
  })
  afterAll(async () => {
    killScripts()
    await broker?.close()
    for (const dir of barriers) rmSync(dir, { recursive: true, force: true })
  })

  const restart = async () => {
    const { logDir, port } = broker!
    await broker!.close()
    broker = undefined
    broker = await startBroker({ storage: "disk", logDir, port, config })
  }

  const produce = async (script: string, topic: string, records: ReadonlyArray<RecordSpec>): Promise<Produced> => {
    const { lines } = await runScript(script, broker!.bootstrap, "produce", { topic, acks: "all" }, JSON.stringify(records))
    expect(lines).toHaveLength(records.length)
    return { records, placements: lines as Array<Placement> }
  }

  const groupConsume = async (script: string, params: Record<string, unknown>): Promise<GroupRun> => {
    const { lines, apis } = await runScript(script, broker!.bootstrap, "group-consume", params)
    const find = (key: string) => lines.find((l) => key in l)?.[key]
    return {
      committedBefore: find("committed_before"),
      records: lines.filter((l) => "offset" in l && "partition" in l),
      assignments: find("assignments"),
      assignment: find("assignment"),
      commit: find("commit"),
      committed: find("committed"),
      groups: find("groups"),
      apis
    }
  }

  /** Checks that `run` consumed exactly the records of `produced`, each once, where its producer was told. */
  const expectExactly = (run: GroupRun, ...produced: ReadonlyArray<Produced>) => {
    const { want, got } = compare(produced, run.records)
    expect(got).toEqual(want)
  }

  it.runIf(confluentInstalled)("confluent-kafka: a group resumes after its synchronous commit, across consumers and a broker restart", async () => {
    const topic = "confluent-group"
    const group = "confluent-group-1"
    await broker!.createTopic(topic, { partitions: PARTITIONS })
    const consume = (extra: Record<string, unknown> = {}) => groupConsume(CONFLUENT, { topic, group, ...extra })

    const first = await produce(CONFLUENT, topic, batch("first", 24, ALL))
    const one = await consume({ list_groups: true })
    expect(one.committedBefore).toEqual({ 0: null, 1: null, 2: null, 3: null })
    expectExactly(one, first)
    expect(one.assignments).toEqual([ALL])
    expect(one.commit).toEqual(endsOf(first))
    expect(one.committed).toEqual(endsOf(first))
    // AdminClient.list_groups while the consumer is in the group: Stable, one member with its assignment.
    expect(one.groups).toEqual([{
      id: group,
      state: "Stable",
      protocol_type: "consumer",
      protocol: "range",
      error: null,
      members: [{ client_id: "confluent-kafka-group", assignment: true }]
    }])

    // A new consumer reads only what came after the commit; partitions 1 and 3 got nothing new.
    const second = await produce(CONFLUENT, topic, batch("second", 6, [0, 2]))
    const two = await consume()
    expect(two.committedBefore).toEqual(endsOf(first))
    expectExactly(two, second)
    expect(withoutNulls(two.commit)).toEqual(only(endsOf(first, second), [0, 2]))
    expect(two.committed).toEqual(endsOf(first, second))

    // The committed offsets survive a restart.
    const third = await produce(CONFLUENT, topic, batch("third", 6, [1, 3]))
    await restart()
    const three = await consume()
    expect(three.committedBefore).toEqual(endsOf(first, second))
    expectExactly(three, third)
    expect(three.committed).toEqual(endsOf(first, second, third))

    // Nothing left: a fourth consumer reads nothing and commits nothing.
    const four = await consume()
    expect(four.records).toEqual([])
    expect(four.commit).toEqual({})
    expect(four.committed).toEqual(endsOf(first, second, third))

    const listed = await runScript(CONFLUENT, broker!.bootstrap, "list-groups", { group })
    expect(listed.lines[0].groups).toEqual([{ id: group, state: "Empty", protocol_type: "consumer", protocol: "", error: null, members: [] }])

    expect(groupApis(one, two, three, four)).toEqual([
      "DescribeGroups_v0", // list_groups, in the first run
      "FindCoordinator_v2",
      "Heartbeat_v3",
      "JoinGroup_v5",
      "LeaveGroup_v1",
      "ListGroups_v0",
      "OffsetCommit_v7",
      "OffsetFetch_v7",
      "SyncGroup_v3"
    ])
    for (const run of [one, two, three]) {
      expect(run.apis, "one join per consumer: MEMBER_ID_REQUIRED, then the join").toMatchObject({ JoinGroup_v5: 2, SyncGroup_v3: 1, OffsetCommit_v7: 1, LeaveGroup_v1: 1 })
    }
    expect(groupApis(listed)).toEqual(["DescribeGroups_v0", "ListGroups_v0"])
  }, 60_000)

  it.runIf(kafkaPythonInstalled)("kafka-python: a group resumes after its commit, across consumers and a broker restart", async () => {
    const topic = "python-group"
    const group = "python-group-1"
    await broker!.createTopic(topic, { partitions: PARTITIONS })
    const consume = () => groupConsume(KAFKA_PYTHON, { topic, group })

    const first = await produce(KAFKA_PYTHON, topic, batch("first", 24, ALL))
    const one = await consume()
    expect(one.committedBefore).toEqual({ 0: null, 1: null, 2: null, 3: null })
    expectExactly(one, first)
    expect(one.assignment).toEqual(ALL)
    expect(one.committed).toEqual(endsOf(first))

    const second = await produce(KAFKA_PYTHON, topic, batch("second", 6, [0, 2]))
    const two = await consume()
    expect(two.committedBefore).toEqual(endsOf(first))
    expectExactly(two, second)
    expect(two.committed).toEqual(endsOf(first, second))

    const third = await produce(KAFKA_PYTHON, topic, batch("third", 6, [1, 3]))
    await restart()
    const three = await consume()
    expect(three.committedBefore).toEqual(endsOf(first, second))
    expectExactly(three, third)
    expect(three.committed).toEqual(endsOf(first, second, third))

    // KafkaAdminClient: the group is listed, and its committed offsets are the ends.
    const admin = await runScript(KAFKA_PYTHON, broker!.bootstrap, "group-offsets", { group })
    expect(admin.lines[0].groups).toContainEqual([group, "consumer"])
    expect(admin.lines[1].offsets).toEqual(
      Object.fromEntries(Object.entries(endsOf(first, second, third)).map(([p, offset]) => [`${topic}:${p}`, offset]))
    )

    expect(groupApis(one, two, three)).toEqual([
      "GroupCoordinatorRequest_v0",
      "HeartbeatRequest_v1",
      "JoinGroupRequest_v2",
      "LeaveGroupRequest_v1",
      "OffsetCommitRequest_v2",
      "OffsetFetchRequest_v1",
      "SyncGroupRequest_v1"
    ])
    expect(groupApis(admin)).toEqual(["GroupCoordinatorRequest_v0", "ListGroupsRequest_v2", "OffsetFetchRequest_v3"])
  }, 60_000)

  it.runIf(kafkaPythonInstalled)("kafka-python: two consumers in one group split the partitions, each reading its own", async () => {
    const topic = "python-split"
    const group = "python-split-1"
    await broker!.createTopic(topic, { partitions: PARTITIONS })
    const first = await produce(KAFKA_PYTHON, topic, batch("split", 24, ALL))

    const barrier = mkdtempSync(join(tmpdir(), "python-groups-"))
    barriers.push(barrier)
    const member = (name: string) => groupConsume(KAFKA_PYTHON, { topic, group, members: 2, barrier, client_id: name })
    const [a, b] = await Promise.all([member("member-a"), member("member-b")])

    // Each got some partitions, together all of them, none twice.
    expect(a.assignment!.length).toBeGreaterThan(0)
    expect(b.assignment!.length).toBeGreaterThan(0)
    expect([...a.assignment!, ...b.assignment!].sort()).toEqual(ALL)
    // Each read exactly the records of its own partitions, and committed their ends.
    for (const m of [a, b]) {
      expect(new Set(m.records.map((r) => r.partition))).toEqual(new Set(m.assignment))
      expect(only(m.committed, m.assignment!)).toEqual(only(endsOf(first), m.assignment!))
    }
    const { want, got } = compare([first], [...a.records, ...b.records])
    expect(got).toEqual(want)

    // Both commits hold: the next consumer of the group reads only what comes after them.
    const next = await produce(KAFKA_PYTHON, topic, batch("after-split", 8, ALL))
    const after = await groupConsume(KAFKA_PYTHON, { topic, group })
    expect(after.committedBefore).toEqual(endsOf(first))
    expectExactly(after, next)
    expect(after.committed).toEqual(endsOf(first, next))

    expect(groupApis(a, b, after)).toEqual([
      "GroupCoordinatorRequest_v0",
      "HeartbeatRequest_v1",
      "JoinGroupRequest_v2",
      "LeaveGroupRequest_v1",
      "OffsetCommitRequest_v2",
      "OffsetFetchRequest_v1",
      "SyncGroupRequest_v1"
    ])
  }, 60_000)
})
