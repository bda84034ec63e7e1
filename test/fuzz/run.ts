// The long fuzz run: `npm run fuzz -- [--frames N] [--seed S]` (default 1,000,000 frames). The real broker runs
// as a process of its own (node src/Main.ts) on a temporary log dir; the fuzzer (test/support/Fuzz.ts) sends it
// generated and mutated requests of every API. Every 20 batches: the broker must be running, answer ApiVersions
// and a Fetch of records stored before the run (byte for byte) within 10 s, and its output must hold no internal
// error. Reported: frames, answers, closed connections, crashes, hangs, internal errors, the broker's max RSS.
import { readFileSync, rmSync } from "node:fs"
import { parseArgs } from "node:util"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import { ApiVersions } from "../../src/protocol/messages/ApiVersions.ts"
import { CreateTopics } from "../../src/protocol/messages/CreateTopics.ts"
import { Fetch } from "../../src/protocol/messages/Fetch.ts"
import { Produce } from "../../src/protocol/messages/Produce.ts"
import { encodeBatch, setBaseOffset, setPartitionLeaderEpoch } from "../../src/protocol/RecordBatch.ts"
import { startBroker } from "../support/BrokerProcess.ts"
import { runFuzz } from "../support/Fuzz.ts"
import { RawClient } from "../../src/client/RawClient.ts"

const { values } = parseArgs({ options: { frames: { type: "string", default: "1000000" }, seed: { type: "string", default: "1" } } })
const frames = Number(values.frames)
const seed = Number(values.seed)

const rssOf = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return m === null ? 0 : Number(m[1]) * 1024
}

const withTimeout = <A>(p: Promise<A>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))])

const broker = await startBroker({ properties: { "max.broker.partitions": "3000", "group.initial.rebalance.delay.ms": "0" } })
const started = Date.now()
let maxRss = rssOf(broker.pid)
let hangs = 0
try {
  const setup = await RawClient.connect(broker.port)
  await setup.request(CreateTopics, 7, {
    topics: ["intact", "fuzz-a", "fuzz-b"].map((name) => ({ name, numPartitions: name === "fuzz-a" ? 3 : 1, replicationFactor: -1, assignments: [], configs: [] })),
    timeoutMs: 10_000,
    validateOnly: false
  })
  const stored: Array<Uint8Array> = []
  for (let i = 0; i < 20; i++) {
    const batch = encodeBatch([{ value: new TextEncoder().encode(`record ${i}`) }], { timestamp: 1_700_000_000_000 + i })
    const r = await setup.request(Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 10_000, topicData: [{ name: "intact", partitionData: [{ index: 0, records: batch.slice() }] }] })
    setBaseOffset(batch, 0, r.responses[0]!.partitionResponses[0]!.baseOffset)
    setPartitionLeaderEpoch(batch, 0, 0)
    stored.push(batch)
  }
  setup.close()
  const expected = Buffer.concat(stored)

  const report = await runFuzz({
    port: broker.port,
    seed,
    frames,
    batch: 12,
    dictionary: { topics: ["fuzz-a", "fuzz-b", "missing", "", "__consumer_offsets"], topicIds: [], groups: ["g1", "g2", ""] },
    check: async (r) => {
      if (r.batches % 20 !== 0) return
      if (!broker.alive()) throw new Error(`the broker exited after ${r.frames} frames:\n${broker.output().slice(-4000)}`)
      maxRss = Math.max(maxRss, rssOf(broker.pid))
      const client = await RawClient.connect(broker.port)
      try {
        await withTimeout(client.request(ApiVersions, 3, { clientSoftwareName: "check", clientSoftwareVersion: "1" }), 10_000, "ApiVersions")
        const fetched = await withTimeout(client.request(Fetch, 12, {
          replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
          topics: [{ topic: "intact", topicId: ZERO_UUID, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
          forgottenTopicsData: [], rackId: ""
        }), 10_000, "Fetch")
        const records = Buffer.from(fetched.responses[0]!.partitions[0]!.records as Uint8Array)
        if (!records.subarray(0, expected.length).equals(expected)) throw new Error(`stored records changed after ${r.frames} frames`)
      } catch (e) {
        if (String(e).includes("no answer within")) hangs++
        throw e
      } finally {
        client.close()
      }
      if (/internal error/.test(broker.output())) throw new Error(`internal error after ${r.frames} frames:\n${broker.output().match(/.*internal error.*/)?.[0]}`)
      if (r.batches % 2000 === 0) process.stderr.write(`${r.frames} frames, broker RSS ${(maxRss / 1e6).toFixed(0)} MB max\n`)
    }
  })
  console.log(`fuzz: ${report.frames} frames (seed ${seed}) in ${((Date.now() - started) / 1000).toFixed(0)} s: ${report.answers} answers, ${report.closed} connections closed by the broker on a bad frame`)
  console.log(`crashes 0, hangs ${hangs}, internal errors 0, broker max RSS ${(maxRss / 1e6).toFixed(0)} MB`)
} catch (e) {
  console.log(`fuzz FAILED (seed ${seed}, hangs ${hangs}, broker max RSS ${(maxRss / 1e6).toFixed(0)} MB): ${e instanceof Error ? e.message : String(e)}`)
  process.exitCode = 1
} finally {
  await broker.stop()
  rmSync(broker.logDir, { recursive: true, force: true })
}
