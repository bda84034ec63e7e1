// The broker under a seeded stream of generated and mutated requests of every API (test/support/Fuzz.ts), over
// TCP. After every batch it must still answer a valid request, hold the records stored before the fuzzing
// byte for byte, stay within a memory bound, and have logged no internal error: bad input is answered with an
// error code or a closed connection and a log line, never a stack trace. `npm run fuzz` runs the long version
// against a broker process.
import { Layer, Logger, ManagedRuntime } from "effect"
import { afterAll, beforeAll, expect, test } from "vitest"
import * as Broker from "../../src/layers/Broker.ts"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import { ApiVersions } from "../../src/protocol/messages/ApiVersions.ts"
import { CreateTopics } from "../../src/protocol/messages/CreateTopics.ts"
import { Fetch } from "../../src/protocol/messages/Fetch.ts"
import { Produce } from "../../src/protocol/messages/Produce.ts"
import { encodeBatch, setBaseOffset, setPartitionLeaderEpoch } from "../../src/protocol/RecordBatch.ts"
import { BrokerConfig } from "../../src/services/config/BrokerConfig.ts"
import { Listener } from "../../src/services/network/Listener.ts"
import { runFuzz } from "../support/Fuzz.ts"
import { RawClient } from "../../src/client/RawClient.ts"

const FRAMES = Number(process.env["FUZZ_FRAMES"] ?? 6_000)
const SEED = Number(process.env["FUZZ_SEED"] ?? 20261201)
const MEMORY_BOUND = 600 * 1024 * 1024

const errors: Array<string> = []
const capture = Logger.make((options) => {
  if (options.logLevel === "Error" || options.logLevel === "Fatal") {
    const m = options.message
    errors.push(`${Array.isArray(m) ? m.join(" ") : String(m)} ${String(options.cause)}`)
  }
})

let runtime: ManagedRuntime.ManagedRuntime<Listener, unknown>
let port = 0
/** The batches stored in "intact" before the fuzzing, as the log holds them. */
const stored: Array<Uint8Array> = []

beforeAll(async () => {
  const properties = {
    "node.id": "1",
    "log.dirs": "/fuzz",
    "listeners": "PLAINTEXT://127.0.0.1:0",
    "group.initial.rebalance.delay.ms": "0",
    // Generated CreateTopics and CreatePartitions may ask for thousands: bounded here, as an operator would.
    "max.broker.partitions": "3000"
  }
  runtime = ManagedRuntime.make(
    Broker.layer(BrokerConfig.layerFrom(properties)).pipe(Layer.provide(MemoryFileSystem.layer), Layer.provide(Logger.layer([capture])))
  )
  port = (await runtime.runPromise(Listener)).port
  const client = await RawClient.connect(port)
  await client.request(CreateTopics, 7, {
    topics: [
      { name: "intact", numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] },
      { name: "fuzz-a", numPartitions: 3, replicationFactor: -1, assignments: [], configs: [] },
      { name: "fuzz-b", numPartitions: 1, replicationFactor: -1, assignments: [], configs: [{ name: "cleanup.policy", value: "compact" }] }
    ],
    timeoutMs: 10_000,
    validateOnly: false
  })
  for (let i = 0; i < 20; i++) {
    const batch = encodeBatch([{ key: new TextEncoder().encode(`k${i}`), value: new TextEncoder().encode(`record ${i}`) }], { timestamp: 1_700_000_000_000 + i })
    const r = await client.request(Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: "intact", partitionData: [{ index: 0, records: batch.slice() }] }]
    })
    const p = r.responses[0]!.partitionResponses[0]!
    expect(p.errorCode).toBe(0)
    setBaseOffset(batch, 0, p.baseOffset)
    setPartitionLeaderEpoch(batch, 0, 0)
    stored.push(batch)
  }
  client.close()
})

afterAll(() => runtime.dispose())

const fetchIntact = {
  replicaId: -1,
  maxWaitMs: 0,
  minBytes: 0,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  sessionId: 0,
  sessionEpoch: -1,
  topics: [{
    topic: "intact",
    topicId: ZERO_UUID,
    partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }]
  }],
  forgottenTopicsData: [],
  rackId: ""
}

test(`${FRAMES} generated and mutated frames of every API: the broker answers, keeps its records, bounds its memory, logs no internal error`, async () => {
  const expected = Buffer.concat(stored)
  const baseline = process.memoryUsage().rss
  const report = await runFuzz({
    port,
    seed: SEED,
    frames: FRAMES,
    batch: 12,
    dictionary: { topics: ["fuzz-a", "fuzz-b", "missing", "", "__consumer_offsets"], topicIds: [], groups: ["g1", "g2", ""] },
    check: async (r) => {
      if (r.batches % 20 !== 0) return
      const client = await RawClient.connect(port)
      const versions = await client.request(ApiVersions, 3, { clientSoftwareName: "check", clientSoftwareVersion: "1" })
      expect(versions.errorCode).toBe(0)
      const fetched = await client.request(Fetch, 12, fetchIntact)
      const records = fetched.responses[0]!.partitions[0]!.records as Uint8Array
      expect(Buffer.from(records).subarray(0, expected.length).equals(expected), `records of "intact" after ${r.frames} frames`).toBe(true)
      client.close()
      expect(process.memoryUsage().rss - baseline).toBeLessThan(MEMORY_BOUND)
      expect(errors.length, `internal errors after ${r.frames} frames:\n${errors.join("\n")}`).toBe(0)
    }
  })
  console.log(JSON.stringify(report))
  expect(report.frames).toBe(FRAMES)
  // Most frames got an answer; many connections were closed on a bad frame.
  expect(report.answers).toBeGreaterThan(FRAMES / 4)
  expect(report.closed).toBeGreaterThan(0)
  expect(errors).toEqual([])
}, 120_000)
