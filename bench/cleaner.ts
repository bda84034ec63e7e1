// Log cleaner throughput: a broker in this process (src/index.ts's servicesLayer, disk storage in a temporary folder,
// real files), one compacted topic filled through `LogStore.append` with a dirty log of keyed records (the same
// keys overwritten again and again), then one clean (`LogStore.clean`, the pass the background cleaner runs)
// timed. The background cleaner is on but backs off for a day, so it never runs during the fill.
//
//   npm run bench:cleaner                                   # 256 MiB, 1 KiB values, 10,000 keys, 100/batch
//   npm run bench:cleaner -- --codec lz4                    # batches compressed (none, gzip, snappy, lz4, zstd)
//   npm run bench:cleaner -- --mib 1024 --keys 100000 --segment-mib 64 --partitions 2
//
// Reported: MB/s of dirty log cleaned (the bytes of the segments the clean read over its time, MB = 10^6 B, as
// bench/run.ts), what it wrote, the records read and kept, segments before and after, and this process's RSS
// (before the clean, the peak sampled every 10 ms during it, and getrusage's high-water mark, fill included).
// The segments were just written: the clean reads them from the page cache, not the disk.
// Values are 1 KiB by default: a pseudo-random first half and a repeated text as the second, so that codecs
// have something to compress. `writeDirtyLog` writes scenario 7's dirty log (bench/run.ts) the same way.
import { Effect, type Layer, ManagedRuntime, References } from "effect"
import { closeSync, fsyncSync, mkdtempSync, openSync, readdirSync, realpathSync, rmSync } from "node:fs"
import { cpus, release, tmpdir, totalmem } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import { servicesLayer } from "../src/index.ts"
import { Codec, codecName } from "../src/protocol/Compression.ts"
import { type BatchHeader, encodeBatch, readHeader } from "../src/protocol/RecordBatch.ts"
import { type CleanStats, LogStore } from "../src/services/log/LogStore.ts"
import { createTopic } from "../src/services/metadata/Topics.ts"

export interface DirtyLog {
  readonly topic: string
  readonly partitions: number
  /** Stored bytes per partition (after compression), in MiB. */
  readonly mibPerPartition: number
  readonly keys: number
  readonly valueSize: number
  readonly recordsPerBatch: number
  readonly codec: number
  readonly segmentBytes: number
}

export interface Filled {
  readonly bytes: number
  readonly batches: number
  readonly records: number
  readonly seconds: number
}

/** A value of `size` bytes: pseudo-random first half, a repeated text after it. */
const value = (size: number, seed: number): Uint8Array => {
  const out = new Uint8Array(size)
  let x = seed * 2654435761 + 1
  const half = size >> 1
  for (let i = 0; i < half; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  const text = new TextEncoder().encode(`value of record ${seed}; `)
  for (let i = half; i < size; i++) out[i] = text[(i - half) % text.length]!
  return out
}

const keyOf = (k: number) => new TextEncoder().encode(`key-${String(k).padStart(8, "0")}`)

/**
 * The batches the fill cycles through: batch t holds keys t·n .. t·n+n-1 (modulo `keys`), so that every key is
 * overwritten once per ⌈keys / n⌉ batches.
 */
const keyedBatches = (o: DirtyLog): Array<{ readonly bytes: Uint8Array; readonly header: BatchHeader; readonly records: number }> =>
  Array.from({ length: Math.max(1, Math.ceil(o.keys / o.recordsPerBatch)) }, (_, t) => {
    const records = Array.from({ length: o.recordsPerBatch }, (_, j) => {
      const k = (t * o.recordsPerBatch + j) % o.keys
      return { key: keyOf(k), value: value(o.valueSize, k) }
    })
    const bytes = encodeBatch(records, { compression: o.codec })
    return { bytes, header: readHeader(bytes), records: o.recordsPerBatch }
  })

/** The topic configs of a dirty log: compacted, its segment size, and `extra`. */
const dirtyLogConfigs = (o: DirtyLog, extra: Readonly<Record<string, string>> = {}): Readonly<Record<string, string>> => ({
  "cleanup.policy": "compact",
  "segment.bytes": String(o.segmentBytes),
  ...extra
})

/**
 * Creates the topic and appends the dirty log to each partition through the broker's LogStore (the batches are
 * reused: an append patches the base offset into them and writes them before it returns).
 */
export const fillDirtyLog = (o: DirtyLog, extraConfigs: Readonly<Record<string, string>> = {}) =>
  Effect.gen(function*() {
    yield* createTopic({
      name: o.topic,
      partitions: o.partitions,
      replicationFactor: -1,
      configs: Object.entries(dirtyLogConfigs(o, extraConfigs)).map(([name, value]) => ({ name, value }))
    })
    const store = yield* LogStore
    const batches = keyedBatches(o)
    const started = performance.now()
    const target = o.mibPerPartition * 2 ** 20
    let bytes = 0
    let count = 0
    let records = 0
    for (let partition = 0; partition < o.partitions; partition++) {
      const tp = { topic: o.topic, partition }
      let written = 0
      for (let i = 0; written < target; i++) {
        const b = batches[i % batches.length]!
        yield* store.append(tp, b.bytes, b.header)
        written += b.bytes.length
        count++
        records += b.records
      }
      bytes += written
    }
    return { bytes, batches: count, records, seconds: (performance.now() - started) / 1000 } satisfies Filled
  })

/** Effects run on the runtime do not get the layer's log level (see src/index.ts): only their warnings print. */
const quiet = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, References.MinimumLogLevel, "Warn")

/** fsyncs every file under `dir`: their writeback is over before what comes next is measured. */
const syncTree = (dir: string) => {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const fd = openSync(join(entry.parentPath, entry.name), "r")
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
}

/**
 * Writes a dirty log into `logDir` with a broker in this process whose cleaner is off, stops it cleanly and
 * fsyncs the files: a broker started later on the folder finds all of it dirty, and none of it still being
 * written back by the kernel. `seconds` counts the appends only.
 */
export const writeDirtyLog = async (logDir: string, o: DirtyLog, extraConfigs: Readonly<Record<string, string>> = {}): Promise<Filled> => {
  const runtime = ManagedRuntime.make(servicesLayer({ storage: "disk", logDir, config: { "log.cleaner.enable": "false" } }))
  try {
    return await runtime.runPromise(quiet(fillDirtyLog(o, extraConfigs)))
  } finally {
    await runtime.dispose()
    syncTree(logDir)
  }
}

export const codecOf = (name: string): number => {
  const codec = (Codec as Record<string, number>)[name.charAt(0).toUpperCase() + name.slice(1).toLowerCase()]
  if (codec === undefined) throw new Error(`unknown codec ${name}: none, gzip, snappy, lz4 or zstd`)
  return codec
}

// ---------------------------------------------------------------------------------------------------------
// The benchmark

const main = async () => {
  const { values: flags } = parseArgs({
    options: {
      mib: { type: "string", default: "256" },
      partitions: { type: "string", default: "1" },
      keys: { type: "string", default: "10000" },
      "value-size": { type: "string", default: "1024" },
      batch: { type: "string", default: "100" },
      "segment-mib": { type: "string", default: "16" },
      codec: { type: "string", default: "none" },
      dir: { type: "string" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false }
    }
  })
  if (flags.help) {
    console.log(`Usage: npm run bench:cleaner -- [options]      (or node bench/cleaner.ts [options])

  --mib N             dirty log to fill, MiB of stored batches over all partitions (default 256)
  --partitions N      partitions of the compacted topic, each cleaned once by the pass (default 1)
  --keys N            distinct keys per partition (default 10000)
  --value-size N      bytes per value (default 1024)
  --batch N           records per batch (default 100)
  --segment-mib N     the topic's segment.bytes in MiB (default 16)
  --codec C           none, gzip, snappy, lz4 or zstd (default none)
  --dir DIR           parent of the temporary log dir (default the system's temporary folder)
  --keep              keep the log dir afterwards`)
    return
  }
  const partitions = Math.max(1, Number(flags.partitions))
  const o: DirtyLog = {
    topic: "compacted",
    partitions,
    mibPerPartition: Number(flags.mib) / partitions,
    keys: Math.max(1, Number(flags.keys)),
    valueSize: Number(flags["value-size"]),
    recordsPerBatch: Math.max(1, Number(flags.batch)),
    codec: codecOf(flags.codec),
    segmentBytes: Math.round(Number(flags["segment-mib"]) * 2 ** 20)
  }
  const mib = (n: number) => (n / 2 ** 20).toFixed(1)
  const int = (n: number) => Math.round(n).toLocaleString("en-US")
  const argv = process.argv.slice(2)
  console.log(`# log cleaner benchmark, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`)
  console.log(`command: node bench/cleaner.ts${argv.length > 0 ? " " + argv.join(" ") : ""}`)
  console.log(`machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}, Node ${process.version}`)
  const logDir = mkdtempSync(join(flags.dir ?? tmpdir(), "bench-cleaner-"))
  const runtime = ManagedRuntime.make(servicesLayer({
    storage: "disk",
    logDir,
    // On, as in production, but it backs off for a day: the clean measured is the one called below.
    config: { "log.cleaner.enable": "true", "log.cleaner.backoff.ms": String(86_400_000) }
  }))
  const run = <A, E>(effect: Effect.Effect<A, E, Layer.Success<ReturnType<typeof servicesLayer>>>) => runtime.runPromise(quiet(effect))
  try {
    console.log(
      `fill:    topic ${o.topic}, ${partitions} partition(s), ${flags.mib} MiB of ${o.recordsPerBatch}-record batches (codec ${codecName(o.codec)}), ` +
        `${o.valueSize}-byte values over ${int(o.keys)} keys per partition, segment.bytes ${mib(o.segmentBytes)} MiB, in ${logDir}`
    )
    await run(Effect.void)
    const rssStarted = process.memoryUsage.rss()
    const filled = await run(fillDirtyLog(o))
    console.log(
      `         ${mib(filled.bytes)} MiB, ${int(filled.records)} records in ${int(filled.batches)} batches, appended in ${filled.seconds.toFixed(1)} s ` +
        `(${(filled.bytes / 1e6 / filled.seconds).toFixed(0)} MB/s)`
    )
    // The fill's writeback is not the clean's to wait for.
    syncTree(logDir)
    const rssBefore = process.memoryUsage.rss()
    let rssPeak = rssBefore
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
    }, 10)
    const t0 = performance.now()
    const stats: ReadonlyArray<CleanStats> = await run(Effect.flatMap(Effect.service(LogStore), (s) => s.clean))
    const wallMs = performance.now() - t0
    clearInterval(sampler)
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
    const maxRss = process.resourceUsage().maxRSS * 1024
    if (stats.length === 0) throw new Error("the clean cleaned nothing")
    const sum = (f: (s: CleanStats) => number) => stats.reduce((n, s) => n + f(s), 0)
    const read = sum((s) => s.bytesRead)
    const written = sum((s) => s.bytesWritten)
    const ms = sum((s) => s.ms)
    for (const s of stats) {
      console.log(
        `clean:   ${s.tp.topic}-${s.tp.partition}: [${s.firstDirty}, ${s.end}) in ${s.ms} ms: ${mib(s.bytesRead)} MiB read, ${mib(s.bytesWritten)} MiB written, ` +
          `${int(s.recordsKept)} of ${int(s.recordsRead)} records kept, ${s.segmentsBefore} segments into ${s.segmentsAfter}`
      )
    }
    console.log(`         the pass took ${(wallMs / 1000).toFixed(2)} s of wall time; RSS ${mib(rssStarted)} MiB once the broker had started, ${mib(rssBefore)} MiB before the clean, peak ${mib(rssPeak)} MiB during it (sampled every 10 ms), process high-water mark ${mib(maxRss)} MiB`)
    console.log()
    console.log(
      `RESULT cleaner (codec ${codecName(o.codec)}): ${(read / 1e6 / (ms / 1000)).toFixed(1)} MB/s of dirty log cleaned ` +
        `(${mib(read)} MiB read in ${(ms / 1000).toFixed(2)} s, ${int(sum((s) => s.recordsRead) / (ms / 1000))} records/s), ${mib(written)} MiB written, ` +
        `${int(sum((s) => s.recordsKept))} of ${int(sum((s) => s.recordsRead))} records kept, peak RSS ${mib(rssPeak)} MiB (${mib(rssBefore)} before the clean)`
    )
  } finally {
    await runtime.dispose()
    if (flags.keep) console.log(`log dir kept: ${logDir}`)
    else rmSync(logDir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.filename === realpathSync(process.argv[1])) await main()
