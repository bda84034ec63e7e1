// The data set of the start-up scenario: 10 GiB of logs written directly in Kafka's layout, built once and
// kept (default /tmp/bench-10g, reused across runs). Topic `big`, 10 partitions, one segment each just under
// `log.segment.bytes` (1 GiB): `<logs>/big-<p>/00000000000000000000.log` holding ~1 MB RecordBatches v2 (1,000
// records of 1 KiB, valid CRC, offsets counting from 0, timestamps one second apart), with the `.index`
// (relative last offset → position, an entry per batch after the first: Kafka's rule of one entry per
// `index.interval.bytes` = 4096 since the previous) and `.timeindex` (max timestamp so far → its relative
// offset) Kafka would have written for them, trimmed as after a clean shutdown. The topic is written into the
// KRaft metadata log (layers/metadata/KRaftMetadata.ts's writer). Then the broker is started on the directory
// once and stopped with SIGTERM, so that whatever a clean shutdown leaves (marker, recovery points) is there.
import { crc32c } from "@node-rs/crc32"
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, FileSystem } from "effect"
import { randomUUID } from "node:crypto"
import * as KRaftMetadata from "../src/layers/metadata/KRaftMetadata.ts"
import { bootstrapRecords, topicRecords } from "../src/protocol/MetadataRecords.ts"
import { apiVersions, makeBatch } from "./loadgen.ts"
import { startBroker, writeBrokerConfig } from "./servers.ts"

export const BIG_TOPIC = "big"
/** Bump when the layout written here changes: a cached directory of another format is rebuilt. */
const FORMAT = 2
const SEGMENT_BYTES = 1024 * 1024 * 1024
const INDEX_INTERVAL = 4096
const SEGMENT = "00000000000000000000"

export interface BigLogs {
  readonly dir: string
  readonly logDir: string
  readonly configPath: string
  readonly bytes: number
  readonly partitions: number
  /** The log end offset every partition has. */
  readonly endOffset: number
  /** Set when this call built the data set: how long it took and the first (recovering) start. */
  readonly built?: { readonly writeSeconds: number; readonly firstStartMs: number; readonly shutdownMs: number }
}

interface Ready {
  readonly format: number
  readonly gib: number
  readonly bytes: number
  readonly partitions: number
  readonly endOffset: number
}

const writeInt64 = (b: Buffer, at: number, v: number) => {
  const hi = Math.floor(v / 4294967296)
  b.writeInt32BE(hi, at)
  b.writeUInt32BE(v - hi * 4294967296, at + 4)
}

/** Writes one partition's segment, index and time index; returns the segment's size. */
const writePartition = (dir: string, template: Buffer, recordsPerBatch: number, batches: number, firstTimestamp: number): number => {
  mkdirSync(dir, { recursive: true })
  const size = template.length
  const perChunk = 64
  const chunk = Buffer.allocUnsafe(size * perChunk)
  const index = Buffer.allocUnsafe(8 * batches)
  const timeIndex = Buffer.allocUnsafe(12 * batches)
  let indexLength = 0
  let timeIndexLength = 0
  const log = openSync(join(dir, `${SEGMENT}.log`), "w")
  let position = 0
  let sinceIndexEntry = 0
  try {
    for (let first = 0; first < batches; first += perChunk) {
      const n = Math.min(perChunk, batches - first)
      for (let i = 0; i < n; i++) {
        const b = first + i
        const at = i * size
        template.copy(chunk, at)
        const baseOffset = b * recordsPerBatch
        const lastOffset = baseOffset + recordsPerBatch - 1
        const timestamp = firstTimestamp + b * 1000
        writeInt64(chunk, at, baseOffset)
        chunk.writeInt32BE(0, at + 12)
        writeInt64(chunk, at + 27, timestamp)
        writeInt64(chunk, at + 35, timestamp)
        chunk.writeUInt32BE(crc32c(chunk.subarray(at + 21, at + size)) >>> 0, at + 17)
        const batchPosition = position + at
        if (sinceIndexEntry > INDEX_INTERVAL) {
          index.writeInt32BE(lastOffset, indexLength)
          index.writeInt32BE(batchPosition, indexLength + 4)
          indexLength += 8
          writeInt64(timeIndex, timeIndexLength, timestamp)
          timeIndex.writeInt32BE(lastOffset, timeIndexLength + 8)
          timeIndexLength += 12
          sinceIndexEntry = 0
        }
        sinceIndexEntry += size
      }
      let done = 0
      while (done < n * size) done += writeSync(log, chunk, done, n * size - done, position + done)
      position += n * size
    }
  } finally {
    closeSync(log)
  }
  writeFileSync(join(dir, `${SEGMENT}.index`), index.subarray(0, indexLength))
  writeFileSync(join(dir, `${SEGMENT}.timeindex`), timeIndex.subarray(0, timeIndexLength))
  return position
}

/** The cached data set, built (with a line through `say`) when missing or of another format or size. */
export const ensureBigLogs = async (dir: string, gib: number, say: (line: string) => void): Promise<BigLogs> => {
  const partitions = Math.max(1, Math.round(gib))
  const logDir = join(dir, "logs")
  const readyPath = join(dir, "READY")
  if (existsSync(readyPath)) {
    const ready = JSON.parse(readFileSync(readyPath, "utf8")) as Ready
    if (ready.format === FORMAT && ready.gib === gib) {
      return { dir, logDir, configPath: writeBrokerConfig(dir, logDir), bytes: ready.bytes, partitions: ready.partitions, endOffset: ready.endOffset }
    }
  }
  say(`building ${gib} GiB of logs in ${dir} (one time; reused by later runs) ...`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(logDir, { recursive: true })
  const t0 = performance.now()
  await Effect.runPromise(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* KRaftMetadata.writeMetadataLog(fs, logDir, [bootstrapRecords(), topicRecords(BIG_TOPIC, randomUUID(), partitions, 1)])
  }).pipe(Effect.provide(NodeFileSystem.layer)))
  const recordsPerBatch = 1000
  const batch = makeBatch(1024, recordsPerBatch)
  const template = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength)
  const perPartition = (gib * 1024 * 1024 * 1024) / partitions
  const batches = Math.floor(Math.min(perPartition, SEGMENT_BYTES) / template.length)
  const firstTimestamp = Date.now() - partitions * batches * 1000
  let bytes = 0
  for (let p = 0; p < partitions; p++) {
    bytes += writePartition(join(logDir, `${BIG_TOPIC}-${p}`), template, recordsPerBatch, batches, firstTimestamp)
  }
  const writeSeconds = (performance.now() - t0) / 1000
  say(`  wrote ${(bytes / 2 ** 30).toFixed(2)} GiB in ${writeSeconds.toFixed(1)} s; first start of the broker on them (recovers, then a clean shutdown) ...`)
  const configPath = writeBrokerConfig(dir, logDir)
  const broker = await startBroker(configPath, { timeoutMs: 15 * 60_000 })
  await apiVersions(broker.port)
  const firstStartMs = performance.now() - broker.spawnedAt
  const t1 = performance.now()
  const code = await broker.stop(5 * 60_000)
  const shutdownMs = performance.now() - t1
  if (code !== 0) throw new Error(`the broker exited with ${code} after its first start on ${logDir}:\n${broker.output().slice(-2000)}`)
  say(`  first start answered ApiVersions after ${(firstStartMs / 1000).toFixed(1)} s; clean shutdown took ${(shutdownMs / 1000).toFixed(1)} s`)
  const endOffset = batches * recordsPerBatch
  writeFileSync(readyPath, JSON.stringify({ format: FORMAT, gib, bytes, partitions, endOffset } satisfies Ready) + "\n")
  return { dir, logDir, configPath, bytes, partitions, endOffset, built: { writeSeconds, firstStartMs, shutdownMs } }
}
