// Load generator: raw Kafka Produce requests over N TCP connections, pipelined (a fixed number in flight per
// connection), built once from prebuilt record batches; a Fetch consumer reading a partition from offset 0 to its
// end; and a consumer tailing the partition one producer writes to. Usable as a module (`runProduce`, `runFetch`,
// `runProduceAndTail`, `createTopics`) and from the command line:
//
//   node bench/loadgen.ts produce --port 9092 --topic t --partitions 8 --record-size 1024 --batch 100 \
//        --connections 4 --inflight 8 --acks 1 --seconds 10 [--warmup 2] [--create] \
//        [--producer plain|idempotent|transactional] [--txn-batches 100]
//   node bench/loadgen.ts fetch --port 9092 --topic t [--partition 0] [--max-bytes 33554432]
//   produce with [--tail]: a consumer tails the partition meanwhile (one connection and partition; Fetch long
//   polls of --max-wait-ms 500, min bytes 1), and the end-to-end latency (produce sent → record fetched) is printed
//   produce with [--by-leader]: each partition's batches to its leader (Metadata from --port), for a cluster
//   either with [--tls] [--sasl-plain user:password]: a TLS connection (certificates not checked) and a
//   SASL/PLAIN login (SaslHandshake v1, SaslAuthenticate v2) before the load, e.g. to a SASL_SSL listener
//   node bench/loadgen.ts send-cost        # what each way of sending a prebuilt request costs here
//
// Sending: every request frame is encoded once per distinct request (RawClient's framing, the broker's own
// message codecs, batches from `encodeBatch`). What changes per send is only the correlation id (bytes 8-11 of
// the frame). The broker patches base offsets into its own copy of the bytes (the ones it read from the socket),
// never into ours, so the shared part can be sent as is: by default ("gather") each send writes a fresh 12-byte
// prefix (size, api key, version, correlation id) and the shared tail, corked into one writev, with no copy.
// "copy" copies the template per send and patches the correlation id; `send-cost` measures both (and a fresh
// encode): see the numbers it prints. Responses are checked per partition (error codes), by a hand parser.
// Idempotent and transactional producers (`producer`): each connection is one producer, set up over a second
// connection (InitProducerId, and AddPartitionsToTxn for every partition of the topic); its batches carry its
// producer id, epoch and per-partition sequences (each send is then a patched copy of the template, CRCs
// recomputed), and a transactional one commits (EndTxn, then AddPartitionsToTxn for the next transaction) after
// every `commitEvery` record batches, once what it has in flight is answered.
// The Fetch consumers keep one request in flight (encoded once, its correlation id and offset patched per send)
// and read each response where it arrived (the socket chunks, not copied into one buffer): the fields before the
// records, then the 61-byte header of each batch. The load generator shares the two cores with the server under
// test, so it does as little as it can.
import { realpathSync } from "node:fs"
import { performance } from "node:perf_hooks"
import * as net from "node:net"
import * as tls from "node:tls"
import { parseArgs } from "node:util"
import { ZERO_UUID } from "../src/protocol/Bytes.ts"
import { CreateTopics } from "../src/protocol/messages/CreateTopics.ts"
import { Fetch } from "../src/protocol/messages/Fetch.ts"
import { ListOffsets } from "../src/protocol/messages/ListOffsets.ts"
import { Metadata } from "../src/protocol/messages/Metadata.ts"
import { Produce } from "../src/protocol/messages/Produce.ts"
import { ApiVersions } from "../src/protocol/messages/ApiVersions.ts"
import { AddPartitionsToTxn } from "../src/protocol/messages/AddPartitionsToTxn.ts"
import { EndTxn } from "../src/protocol/messages/EndTxn.ts"
import { InitProducerId } from "../src/protocol/messages/InitProducerId.ts"
import { SaslAuthenticate } from "../src/protocol/messages/SaslAuthenticate.ts"
import { SaslHandshake } from "../src/protocol/messages/SaslHandshake.ts"
import { readResponse } from "../src/protocol/Frames.ts"
import { computeCrc, encodeBatch, LOG_OVERHEAD, OFFSET_CRC, TRANSACTIONAL } from "../src/protocol/RecordBatch.ts"
import { RawClient } from "../src/client/RawClient.ts"
import { frameReader, type Parts, partsReader } from "./frames.ts"

// ---------------------------------------------------------------------------------------------------------
// Building requests

/** A value of `size` pseudo-random bytes (incompressible, not that it matters: nothing is compressed). */
const payload = (size: number, seed: number): Uint8Array => {
  const out = new Uint8Array(size)
  let x = seed * 2654435761 + 1
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/** One uncompressed RecordBatch v2 of `count` records with `recordSize`-byte values and no keys. */
export const makeBatch = (recordSize: number, count: number): Uint8Array =>
  encodeBatch(Array.from({ length: count }, (_, i) => ({ key: null, value: payload(recordSize, i) })))

export interface ProduceTemplate {
  /** The whole request frame, size prefix included, correlation id 0. */
  readonly frame: Buffer
  /** The partitions of its batches, in order, and where each batch starts in `frame`. */
  readonly partitions: ReadonlyArray<number>
  readonly batchAt: ReadonlyArray<number>
  /** Everything after the correlation id (client id, body): the same for every send. */
  readonly tail: Buffer
  readonly records: number
  readonly payloadBytes: number
}

export const PRODUCE_VERSION = 9

export const buildProduce = (options: {
  readonly topic: string
  readonly partitions: ReadonlyArray<number>
  readonly batch: Uint8Array
  readonly recordsPerBatch: number
  readonly recordSize: number
  readonly acks: number
  readonly version: number
  readonly transactionalId?: string | null
}): ProduceTemplate => {
  const bytes = RawClient.encode(Produce, options.version, {
    transactionalId: options.transactionalId ?? null,
    acks: options.acks,
    timeoutMs: 30_000,
    topicData: [{ name: options.topic, partitionData: options.partitions.map((index) => ({ index, records: options.batch })) }]
  }, 0, "bench")
  const frame = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // Each batch is the same bytes, in partition order: found by its first bytes (offset, length, epoch, magic).
  const head = Buffer.from(options.batch.subarray(0, 17))
  const batchAt: Array<number> = []
  for (let at = frame.indexOf(head); at >= 0 && batchAt.length < options.partitions.length; at = frame.indexOf(head, at + options.batch.length)) batchAt.push(at)
  return {
    frame,
    partitions: options.partitions,
    batchAt,
    tail: frame.subarray(12),
    records: options.partitions.length * options.recordsPerBatch,
    payloadBytes: options.partitions.length * options.recordsPerBatch * options.recordSize
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reading Produce responses (by hand: the load generator shares the CPU with the server under test)

class Cursor {
  at = 0
  readonly b: Buffer
  constructor(b: Buffer) {
    this.b = b
  }
  uvarint(): number {
    let v = 0
    let shift = 0
    for (;;) {
      const byte = this.b[this.at++]!
      v += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return v
      shift += 7
    }
  }
  skipTags(): void {
    const n = this.uvarint()
    for (let i = 0; i < n; i++) {
      this.uvarint()
      this.at += this.uvarint()
    }
  }
  count(flexible: boolean): number {
    if (flexible) return this.uvarint() - 1
    const n = this.b.readInt32BE(this.at)
    this.at += 4
    return n
  }
  skipString(flexible: boolean): void {
    if (flexible) {
      const n = this.uvarint() - 1
      if (n > 0) this.at += n
    } else {
      const n = this.b.readInt16BE(this.at)
      this.at += 2
      if (n > 0) this.at += n
    }
  }
}

/** Correlation id, partitions answered and the first error code (0 when none) of a Produce response. */
export const readProduceResponse = (frame: Buffer, version: number): { correlationId: number; partitions: number; errors: number; firstError: number } => {
  const flexible = version >= 9
  const c = new Cursor(frame)
  const correlationId = frame.readInt32BE(0)
  c.at = 4
  if (flexible) c.skipTags()
  let partitions = 0
  let errors = 0
  let firstError = 0
  const topics = c.count(flexible)
  for (let t = 0; t < topics; t++) {
    c.skipString(flexible)
    const n = c.count(flexible)
    for (let p = 0; p < n; p++) {
      c.at += 4
      const error = frame.readInt16BE(c.at)
      c.at += 2 + 8
      if (version >= 2) c.at += 8
      if (version >= 5) c.at += 8
      if (version >= 8) {
        const recordErrors = c.count(flexible)
        for (let e = 0; e < recordErrors; e++) {
          c.at += 4
          c.skipString(flexible)
          if (flexible) c.skipTags()
        }
        c.skipString(flexible)
      }
      if (flexible) c.skipTags()
      partitions++
      if (error !== 0) {
        errors++
        if (firstError === 0) firstError = error
      }
    }
    if (flexible) c.skipTags()
  }
  return { correlationId, partitions, errors, firstError }
}

// ---------------------------------------------------------------------------------------------------------
// Latency samples

/** Latencies in microseconds, kept whole (a few million doubles at most) and sorted once at the end. */
export class Samples {
  private data = new Float64Array(1 << 16)
  length = 0
  add(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.length++] = v
  }
  /** The `i`-th value added. */
  get(i: number): number {
    return this.data[i]!
  }
  summary(): Latency {
    const s = this.data.slice(0, this.length).sort()
    const at = (q: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!)
    let sum = 0
    for (const v of s) sum += v
    return { count: s.length, mean: s.length === 0 ? NaN : sum / s.length, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: at(1) }
  }
}

/** Microseconds. */
export interface Latency {
  readonly count: number
  readonly mean: number
  readonly p50: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

// ---------------------------------------------------------------------------------------------------------
// Produce

export interface ProduceOptions {
  readonly host?: string
  readonly port: number
  readonly topic: string
  /** Partitions 0..partitions-1. */
  readonly partitions: number
  /** Partitions per request (one batch each), rotating over all of them; default: all in every request. */
  readonly partitionsPerRequest?: number
  readonly recordSize: number
  readonly recordsPerBatch: number
  readonly connections: number
  /** Requests in flight per connection. */
  readonly inflight: number
  readonly acks: number
  readonly version?: number
  /** Not measured, run first. */
  readonly warmupSeconds?: number
  /** Measured time. */
  readonly seconds?: number
  /** Instead of a duration: stop once this many payload bytes are acknowledged (no warm-up). */
  readonly totalBytes?: number
  readonly send?: "gather" | "copy"
  /** Ends the run early: no more sends, what is in flight is awaited, the measured time ends now. */
  readonly signal?: AbortSignal
  /** Called about once a second with the acknowledged totals so far (warm-up included). */
  readonly onTick?: (totals: { readonly records: number; readonly payloadBytes: number; readonly elapsed: number }) => void
  /** Plain batches (the default), an idempotent producer per connection, or a transactional one. */
  readonly producer?: ProducerMode
  readonly security?: Security
  /**
   * Each partition's batches to its leader, as a Metadata request to `port` names them (the brokers of a cluster):
   * each of the `connections` is then one connection to every leader, its requests carrying the partitions that
   * broker leads (as many batches in flight in all as to a single broker). Not with transactional producers.
   */
  readonly byLeader?: boolean
  /** Called with the time (`performance.now()`) of each request as it is written, in send order. */
  readonly onSend?: (at: number) => void
}

/** How the load connections reach the broker: over TLS (certificates not checked), logged in with SASL/PLAIN. */
export interface Security {
  readonly tls?: boolean
  readonly plain?: { readonly username: string; readonly password: string }
}

export type ProducerMode =
  | { readonly kind: "plain" }
  | { readonly kind: "idempotent" }
  /** Commits after every `commitEvery` record batches (a request carries one per partition). */
  | { readonly kind: "transactional"; readonly commitEvery: number }

/** One connection's producer: its id and epoch, its next sequence per partition, and the connection it is set up on. */
interface ProducerSession {
  readonly producerId: number
  readonly producerEpoch: number
  readonly transactionalId: string | null
  readonly sequences: Map<number, number>
  readonly control: RawClient
}

const expectNoError = (what: string, code: number) => {
  if (code !== 0) throw new Error(`${what}: error ${code}`)
}

const openSession = async (o: ProduceOptions, host: string, c: number): Promise<ProducerSession | undefined> => {
  const mode = o.producer ?? { kind: "plain" }
  if (mode.kind === "plain") return undefined
  const control = await RawClient.connect(o.port, host)
  const transactionalId = mode.kind === "transactional" ? `bench-${process.pid}-${Date.now()}-${c}` : null
  const init = await control.request(InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 })
  expectNoError("InitProducerId", init.errorCode)
  const session = { producerId: init.producerId, producerEpoch: init.producerEpoch, transactionalId, sequences: new Map<number, number>(), control }
  if (transactionalId !== null) await beginTransaction(o, session)
  return session
}

const allPartitions = (o: ProduceOptions) => Array.from({ length: o.partitions }, (_, i) => i)

const beginTransaction = async (o: ProduceOptions, s: ProducerSession) => {
  const r = await s.control.request(AddPartitionsToTxn, 3, {
    transactions: [],
    v3AndBelowTransactionalId: s.transactionalId!,
    v3AndBelowProducerId: s.producerId,
    v3AndBelowProducerEpoch: s.producerEpoch,
    v3AndBelowTopics: [{ name: o.topic, partitions: allPartitions(o) }]
  })
  for (const t of r.resultsByTopicV3AndBelow) for (const p of t.resultsByPartition) expectNoError("AddPartitionsToTxn", p.partitionErrorCode)
}

const commitTransaction = async (s: ProducerSession) => {
  const r = await s.control.request(EndTxn, 3, { transactionalId: s.transactionalId!, producerId: s.producerId, producerEpoch: s.producerEpoch, committed: true })
  expectNoError("EndTxn", r.errorCode)
}

/**
 * A copy of the template's frame with the producer's id, epoch and next sequences patched into its batches,
 * into `into` (a buffer of the frame's size no longer being written) when given.
 */
const sequenced = (t: ProduceTemplate, s: ProducerSession, recordsPerBatch: number, into?: Buffer): Buffer => {
  const frame = into ?? Buffer.allocUnsafeSlow(t.frame.length)
  t.frame.copy(frame)
  t.batchAt.forEach((at, i) => {
    const partition = t.partitions[i]!
    const sequence = s.sequences.get(partition) ?? 0
    s.sequences.set(partition, sequence + recordsPerBatch)
    const batch = frame.subarray(at, at + LOG_OVERHEAD + frame.readInt32BE(at + 8))
    if (s.transactionalId !== null) batch.writeInt16BE(batch.readInt16BE(21) | TRANSACTIONAL, 21)
    batch.writeBigInt64BE(BigInt(s.producerId), 43)
    batch.writeInt16BE(s.producerEpoch, 51)
    batch.writeInt32BE(sequence, 53)
    batch.writeUInt32BE(computeCrc(batch), OFFSET_CRC)
  })
  return frame
}

export interface ProduceResult {
  /** Transactions committed (transactional producers). */
  readonly commits: number
  /** The measured time, as `performance.now()` values: requests sent and answered within it count. */
  readonly measuredFrom: number
  readonly measuredTo: number
  readonly seconds: number
  readonly requests: number
  readonly records: number
  readonly payloadBytes: number
  readonly wireBytes: number
  readonly recordsPerSec: number
  /** Record values only, 10^6 bytes per second. */
  readonly payloadMBps: number
  /** Request frames as sent. */
  readonly wireMBps: number
  /** Send → response, microseconds (acks=0: send → handed to the kernel). */
  readonly latency: Latency
  /**
   * Requests answered within the measured time, per connection: fewest, median, most (a server that serves some
   * connections much less than others; their requests still unanswered at the end are in no latency).
   */
  readonly perConnection: { readonly min: number; readonly median: number; readonly max: number }
  readonly errors: number
  readonly firstError: number
}

const STALL_MS = 60_000

/** Writes one request and resolves with its response frame (after the size), before the load's own reader is on. */
const roundTrip = (s: net.Socket, request: Uint8Array): Promise<Uint8Array> =>
  new Promise((resolve, reject) => {
    let got = Buffer.alloc(0)
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d])
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
        s.off("data", onData)
        s.off("close", onClose)
        resolve(got.subarray(4, 4 + got.readInt32BE(0)))
      }
    }
    const onClose = () => reject(new Error("connection closed during the SASL login"))
    s.on("data", onData)
    s.once("close", onClose)
    s.write(request)
  })

const saslPlain = async (s: net.Socket, username: string, password: string) => {
  const handshake = readResponse(SaslHandshake, 1, await roundTrip(s, RawClient.encode(SaslHandshake, 1, { mechanism: "PLAIN" }, 1, "bench")))
  if (handshake.errorCode !== 0) throw new Error(`SaslHandshake PLAIN: error ${handshake.errorCode} (enabled: ${handshake.mechanisms.join(", ")})`)
  const authBytes = new TextEncoder().encode(`\u0000${username}\u0000${password}`)
  const auth = readResponse(SaslAuthenticate, 2, await roundTrip(s, RawClient.encode(SaslAuthenticate, 2, { authBytes }, 2, "bench")))
  if (auth.errorCode !== 0) throw new Error(`SaslAuthenticate: error ${auth.errorCode} ${auth.errorMessage ?? ""}`)
}

const connect = async (port: number, host: string, security: Security = {}): Promise<net.Socket> => {
  const s = await new Promise<net.Socket>((resolve, reject) => {
    const s: net.Socket = security.tls === true
      ? tls.connect({ port, host, rejectUnauthorized: false }, () => {
        s.setNoDelay(true)
        s.off("error", reject)
        resolve(s)
      })
      : net.createConnection({ port, host, noDelay: true }, () => {
        s.off("error", reject)
        resolve(s)
      })
    s.once("error", reject)
  })
  if (security.plain !== undefined) await saslPlain(s, security.plain.username, security.plain.password)
  return s
}

export const runProduce = async (o: ProduceOptions): Promise<ProduceResult> => {
  const host = o.host ?? "127.0.0.1"
  const version = o.version ?? PRODUCE_VERSION
  const perRequest = Math.min(o.partitionsPerRequest ?? o.partitions, o.partitions)
  const batch = makeBatch(o.recordSize, o.recordsPerBatch)
  /** The requests of one connection to `partitions` (a transactional producer's carry its transactional id). */
  const templatesFor = (partitions: ReadonlyArray<number>, transactionalId: string | null) => {
    const templates: Array<ProduceTemplate> = []
    for (let at = 0; at < partitions.length; at += perRequest) {
      const ps = partitions.slice(at, at + perRequest)
      templates.push(buildProduce({ topic: o.topic, partitions: ps, batch, recordsPerBatch: o.recordsPerBatch, recordSize: o.recordSize, acks: o.acks, version, transactionalId }))
    }
    return templates
  }
  const gather = (o.send ?? "gather") === "gather"
  const byTotal = o.totalBytes !== undefined
  const samples = new Samples()
  if (o.security !== undefined && (o.producer ?? { kind: "plain" }).kind !== "plain") {
    throw new Error("idempotent and transactional producers set up over a plaintext connection: use --producer plain with --tls or --sasl-plain")
  }
  if (o.byLeader === true && o.producer?.kind === "transactional") {
    throw new Error("a transactional producer sends its transaction's requests to one coordinator: not with byLeader")
  }
  // Where the batches go: the brokers with the partitions each one takes, and the connections to them.
  const routes: ReadonlyArray<Leader> = o.byLeader === true
    ? await leadersOf(o.port, o.topic, o.partitions, host)
    : [{ nodeId: -1, host, port: o.port, partitions: allPartitions(o) }]
  const links = Array.from({ length: o.connections }, (_, c) => routes.map((_, route) => ({ c, route }))).flat()
  const sockets = await Promise.all(links.map((l) => connect(routes[l.route]!.port, routes[l.route]!.host, o.security)))
  const sessions = await Promise.all(links.map((_, i) => openSession(o, host, i)))
  const shared = routes.map((r) => templatesFor(r.partitions, null))
  const templatesOf = sessions.map((s, i) => (s?.transactionalId == null ? shared[links[i]!.route]! : templatesFor(routes[links[i]!.route]!.partitions, s.transactionalId)))
  const commitEvery = o.producer?.kind === "transactional" ? o.producer.commitEvery : Infinity
  let commits = 0

  const start = performance.now()
  const measureFrom = byTotal ? start : start + (o.warmupSeconds ?? 0) * 1000
  let measureTo = byTotal ? Infinity : measureFrom + (o.seconds ?? 10) * 1000
  let stopping = false
  let requests = 0
  let records = 0
  let payloadBytes = 0
  let wireBytes = 0
  let errors = 0
  let firstError = 0
  let allRecords = 0
  let allPayload = 0
  let sentPayload = 0
  let lastAck = start
  /** Requests answered within the measured time, by connection. */
  const answered = new Int32Array(sockets.length)

  const ticker = setInterval(() => o.onTick?.({ records: allRecords, payloadBytes: allPayload, elapsed: (performance.now() - start) / 1000 }), 1000)
  const stopTimer = byTotal ? undefined : setTimeout(() => (stopping = true), measureTo - start)
  o.signal?.addEventListener("abort", () => {
    stopping = true
    const now = performance.now()
    if (now < measureTo) measureTo = Math.max(now, measureFrom)
  })

  return await new Promise<ProduceResult>((resolve, reject) => {
    let open = sockets.length
    let failed = false
    // A server that stops answering fails the run instead of hanging it.
    const watchdog = setInterval(() => {
      if (performance.now() - lastAck > STALL_MS) fail(new Error(`no response for ${STALL_MS / 1000} s`))
    }, 1000)
    const fail = (e: Error) => {
      if (failed) return
      failed = true
      clearInterval(watchdog)
      clearInterval(ticker)
      if (stopTimer !== undefined) clearTimeout(stopTimer)
      for (const s of sockets) s.destroy()
      for (const s of sessions) s?.control.close()
      reject(e)
    }
    const finishOne = () => {
      if (--open > 0 || failed) return
      clearInterval(watchdog)
      clearInterval(ticker)
      if (stopTimer !== undefined) clearTimeout(stopTimer)
      if (byTotal) measureTo = lastAck
      const seconds = (measureTo - measureFrom) / 1000
      for (const s of sessions) s?.control.close()
      resolve({
        commits,
        measuredFrom: measureFrom,
        measuredTo: measureTo,
        seconds,
        requests,
        records,
        payloadBytes,
        wireBytes,
        recordsPerSec: records / seconds,
        payloadMBps: payloadBytes / seconds / 1e6,
        wireMBps: wireBytes / seconds / 1e6,
        latency: samples.summary(),
        perConnection: (() => {
          const sorted = [...answered].sort((a, b) => a - b)
          return { min: sorted[0] ?? 0, median: sorted[sorted.length >> 1] ?? 0, max: sorted.at(-1) ?? 0 }
        })(),
        errors,
        firstError
      })
    }

    sockets.forEach((socket, i) => {
      const c = links[i]!.c
      // FIFO of what is in flight: send time and template index, in request order.
      const sentAt = new Float64Array(o.inflight)
      const sentTemplate = new Int32Array(o.inflight)
      let head = 0
      let inflight = 0
      let correlation = 0
      const templates = templatesOf[i]!
      let next = c % templates.length
      let done = false
      const session = sessions[i]
      /** Sequenced frames written out, by template, to be reused. */
      const free = new Map<number, Array<Buffer>>()
      // Record batches sent in the open transaction, and whether it is being committed.
      let inTransaction = 0
      let committing = false

      /** `written`: the share of the request's partitions answered without an error (the others' records do not count). */
      const acknowledged = (now: number, written = 1) => {
        const t = templates[sentTemplate[head]!]!
        const at = sentAt[head]!
        head = (head + 1) % o.inflight
        inflight--
        allRecords += t.records * written
        allPayload += t.payloadBytes * written
        lastAck = now
        if (now >= measureFrom && now <= measureTo && at >= measureFrom) {
          answered[i]!++
          requests++
          records += t.records * written
          payloadBytes += t.payloadBytes * written
          wireBytes += t.frame.length
          samples.add((now - at) * 1000)
        }
      }

      const sendOne = () => {
        const ti = next
        next = (next + 1) % templates.length
        const t = templates[ti]!
        const id = ++correlation
        const slot = (head + inflight) % o.inflight
        sentTemplate[slot] = ti
        inflight++
        sentPayload += t.payloadBytes
        inTransaction += t.partitions.length
        const written = o.acks === 0 ? afterWrite : undefined
        if (session !== undefined) {
          // Frames are reused once written out: the copies cost no allocation per send.
          const spare = free.get(ti)?.pop()
          const frame = sequenced(t, session, o.recordsPerBatch, spare)
          frame.writeInt32BE(id, 8)
          sentAt[slot] = performance.now()
          socket.write(frame, () => {
            let list = free.get(ti)
            if (list === undefined) free.set(ti, (list = []))
            list.push(frame)
            written?.()
          })
        } else if (gather) {
          const prefix = Buffer.allocUnsafe(12)
          t.frame.copy(prefix, 0, 0, 8)
          prefix.writeInt32BE(id, 8)
          sentAt[slot] = performance.now()
          socket.write(prefix)
          socket.write(t.tail, written)
        } else {
          const copy = Buffer.allocUnsafe(t.frame.length)
          t.frame.copy(copy)
          copy.writeInt32BE(id, 8)
          sentAt[slot] = performance.now()
          socket.write(copy, written)
        }
        o.onSend?.(sentAt[slot]!)
        return id
      }

      const afterWrite = () => {
        acknowledged(performance.now())
        pump()
      }

      /** Once what is in flight is answered: EndTxn, then the partitions added to the next transaction. */
      const commit = (then: () => void) => {
        committing = true
        commitTransaction(session!)
          .then(() => (stopping ? undefined : beginTransaction(o, session!)))
          .then(() => {
            commits++
            committing = false
            inTransaction = 0
            then()
          }, (e: Error) => fail(e))
      }

      let expected = 1
      const pump = () => {
        if (done || committing) return
        const now = performance.now()
        if (now >= measureTo) stopping = true
        const more = () => !stopping && !(byTotal && sentPayload >= o.totalBytes!) && !failed && inTransaction < commitEvery
        if (inflight < o.inflight && more()) {
          socket.cork()
          while (inflight < o.inflight && more()) sendOne()
          socket.uncork()
        }
        if (inflight > 0) return
        if (inTransaction >= commitEvery && !failed) return commit(pump)
        if (!more()) {
          const finish = () => {
            done = true
            socket.end()
            finishOne()
          }
          // The last transaction is committed too.
          if (session?.transactionalId != null && inTransaction > 0 && !failed) commit(finish)
          else finish()
        }
      }

      const read = frameReader((frame) => {
        if (o.acks === 0) return fail(new Error("a response to an acks=0 request"))
        const r = readProduceResponse(frame, version)
        if (r.correlationId !== expected) return fail(new Error(`correlation id ${r.correlationId}, expected ${expected}`))
        expected++
        if (r.errors > 0) {
          errors += r.errors
          if (firstError === 0) firstError = r.firstError
        }
        acknowledged(performance.now(), r.partitions === 0 ? 1 : (r.partitions - r.errors) / r.partitions)
      })
      socket.on("data", (chunk: Buffer) => {
        try {
          read(chunk)
        } catch (e) {
          return fail(e as Error)
        }
        pump()
      })
      socket.on("error", (e) => fail(e))
      socket.on("close", () => {
        if (!done) fail(new Error(`connection ${c}${routes.length > 1 ? ` to node ${routes[links[i]!.route]!.nodeId}` : ""} closed by the server with ${inflight} requests in flight`))
      })
      pump()
    })
  })
}

// ---------------------------------------------------------------------------------------------------------
// Fetch consumer

export interface FetchOptions {
  readonly host?: string
  readonly port: number
  readonly topic: string
  readonly partition?: number
  readonly maxBytes?: number
  readonly version?: number
  /** Read up to this offset; default: the high watermark of the first response. */
  readonly untilOffset?: number
  readonly security?: Security
}

export interface FetchResult {
  readonly seconds: number
  readonly requests: number
  readonly bytes: number
  readonly records: number
  readonly batches: number
  readonly endOffset: number
  /** Record batch bytes received, 10^6 bytes per second. */
  readonly MBps: number
}

/** Requests written, responses read whole but not copied (each as the socket chunks it arrived in). */
class FrameConnection {
  private readonly socket: net.Socket
  private readonly frames: Array<Parts> = []
  private waiter: (() => void) | undefined
  private error: Error | undefined

  constructor(socket: net.Socket) {
    this.socket = socket
    const read = partsReader((f) => {
      this.frames.push(f)
      this.waiter?.()
    })
    socket.on("data", (d: Buffer) => read(d))
    socket.on("error", (e) => {
      this.error = e
      this.waiter?.()
    })
    socket.on("close", () => {
      this.error ??= new Error("connection closed")
      this.waiter?.()
    })
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes)
  }

  async next(): Promise<Parts> {
    const deadline = performance.now() + STALL_MS
    while (this.frames.length === 0) {
      if (this.error !== undefined) throw this.error
      if (performance.now() >= deadline) throw new Error(`no response for ${STALL_MS / 1000} s`)
      await new Promise<void>((r) => {
        const timer = setTimeout(r, deadline - performance.now())
        this.waiter = () => {
          clearTimeout(timer)
          r()
        }
      })
      this.waiter = undefined
    }
    return this.frames.shift()!
  }

  close(): void {
    this.socket.destroy()
  }
}

/**
 * Reads a Fetch response (v4-v12, one topic, one partition) by hand from its slices: the fields before the
 * records, then only the 61-byte header of each batch. Returns where the records are and what they hold.
 */
export const readFetchResponse = (frame: Parts, version: number) => {
  const flexible = version >= 12
  const h = frame.bytes(0, Math.min(frame.length, 4096))
  const c = new Cursor(h)
  const correlationId = h.readInt32BE(0)
  c.at = 4
  if (flexible) c.skipTags()
  c.at += 4
  let errorCode = 0
  if (version >= 7) {
    errorCode = h.readInt16BE(c.at)
    c.at += 6
  }
  if (c.count(flexible) !== 1) throw new Error("Fetch response without exactly one topic")
  c.skipString(flexible)
  if (c.count(flexible) !== 1) throw new Error("Fetch response without exactly one partition")
  c.at += 4
  const partitionError = h.readInt16BE(c.at)
  const highWatermark = h.readInt32BE(c.at + 2) * 4294967296 + h.readUInt32BE(c.at + 6)
  c.at += 2 + 8 + 8
  if (version >= 5) c.at += 8
  const aborted = c.count(flexible)
  for (let i = 0; i < aborted; i++) {
    c.at += 16
    if (flexible) c.skipTags()
  }
  if (version >= 11) c.at += 4
  let length: number
  if (flexible) {
    length = c.uvarint() - 1
  } else {
    length = h.readInt32BE(c.at)
    c.at += 4
  }
  const start = c.at
  let at = start
  let nextOffset = -1
  let records = 0
  let batches = 0
  const end = start + Math.max(0, length)
  while (at + 61 <= end) {
    const b = frame.bytes(at, 61)
    const size = b.readInt32BE(8) + LOG_OVERHEAD
    if (at + size > end) break
    nextOffset = b.readInt32BE(0) * 4294967296 + b.readUInt32BE(4) + b.readInt32BE(23) + 1
    records += b.readInt32BE(57)
    batches++
    at += size
  }
  return { correlationId, errorCode, partitionError, highWatermark, bytes: at - start, nextOffset, records, batches }
}

/**
 * Fetch requests (v4-v12, `maxWaitMs`, `minBytes`) for one partition, encoded once: each send is a copy with its
 * correlation id and fetch offset patched in (the offset's place found by encoding two offsets and comparing).
 */
const fetchRequests = (o: {
  readonly topic: string
  readonly partition: number
  readonly maxBytes: number
  readonly maxWaitMs: number
  readonly minBytes: number
  readonly version: number
}): ((correlationId: number, offset: number) => Buffer) => {
  const encode = (fetchOffset: number) =>
    Buffer.from(RawClient.encode(Fetch, o.version, {
      clusterId: null,
      replicaId: -1,
      maxWaitMs: o.maxWaitMs,
      minBytes: o.minBytes,
      maxBytes: o.maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic: o.topic,
        topicId: ZERO_UUID,
        partitions: [{ partition: o.partition, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: o.maxBytes }]
      }],
      forgottenTopicsData: [],
      rackId: ""
    }, 0, "bench"))
  const template = encode(0)
  const other = encode(1)
  const offsetAt = template.findIndex((b, i) => b !== other[i]) - 7
  return (correlationId, offset) => {
    const frame = Buffer.from(template)
    frame.writeInt32BE(correlationId, 8)
    frame.writeUInt32BE(Math.floor(offset / 4294967296), offsetAt)
    frame.writeUInt32BE(offset >>> 0, offsetAt + 4)
    return frame
  }
}

export const runFetch = async (o: FetchOptions): Promise<FetchResult> => {
  const version = o.version ?? 12
  if (version < 4 || version > 12) throw new Error(`Fetch v${version}: the consumer reads v4-v12 (topic names)`)
  const maxBytes = o.maxBytes ?? 32 * 1024 * 1024
  const partition = o.partition ?? 0
  const request = fetchRequests({ topic: o.topic, partition, maxBytes, maxWaitMs: 500, minBytes: 1, version })
  const conn = new FrameConnection(await connect(o.port, o.host ?? "127.0.0.1", o.security))
  let offset = 0
  let until = o.untilOffset ?? -1
  let bytes = 0
  let records = 0
  let batches = 0
  let requests = 0
  const start = performance.now()
  try {
    for (;;) {
      const id = ++requests
      conn.write(request(id, offset))
      const r = readFetchResponse(await conn.next(), version)
      if (r.correlationId !== id) throw new Error(`correlation id ${r.correlationId}, expected ${id}`)
      if (r.errorCode !== 0) throw new Error(`Fetch error ${r.errorCode}`)
      if (r.partitionError !== 0) throw new Error(`Fetch error ${r.partitionError} for ${o.topic}-${partition} at offset ${offset}`)
      if (until < 0) until = r.highWatermark
      bytes += r.bytes
      records += r.records
      batches += r.batches
      if (r.nextOffset >= 0) offset = r.nextOffset
      if (offset >= until) break
      if (r.batches === 0) throw new Error(`no whole batch at offset ${offset} (high watermark ${r.highWatermark})`)
    }
  } finally {
    conn.close()
  }
  const seconds = (performance.now() - start) / 1000
  return { seconds, requests, bytes, records, batches, endOffset: offset, MBps: bytes / seconds / 1e6 }
}

// ---------------------------------------------------------------------------------------------------------
// A producer and a consumer tailing its partition

/** Fetch's long poll as the tailing consumer asks for it. */
export interface TailOptions {
  /** How long the server may hold a Fetch that has nothing to return. */
  readonly maxWaitMs: number
  /** The bytes it waits for. */
  readonly minBytes: number
}

export interface TailResult {
  /** Fetches answered within the producer's measured time. */
  readonly requests: number
  readonly requestsPerSec: number
  /** Of those, the ones answered without a record (a long poll's time running out). */
  readonly empty: number
  /** Records received of the batches sent within the measured time. */
  readonly records: number
  /** Produce request written → its record received by the consumer, microseconds (batches sent in the measured time). */
  readonly latency: Latency
}

const UNKNOWN_TOPIC_OR_PARTITION = 3
/** How long the consumer may take, once the producer is done, to receive what it produced. */
const CATCH_UP_MS = 10_000

/**
 * `runProduce` on one connection to a fresh partition 0 while a consumer tails that partition on a connection of
 * its own, as a caught-up consumer does: one Fetch in flight, from its next offset, the server holding it
 * (`maxWaitMs`, `minBytes`) until there is a record. The consumer starts first, on the empty partition (a server
 * that knows the partition only from its first produce answers UNKNOWN_TOPIC_OR_PARTITION until then: the
 * consumer asks again 10 ms later), and ends once it has received every record produced. One connection writing
 * in order, the n-th request's batch is the one at offset n × recordsPerBatch: its send time is the start of the
 * end-to-end latency of its records.
 */
export const runProduceAndTail = async (o: ProduceOptions & TailOptions): Promise<{ readonly produce: ProduceResult; readonly tail: TailResult }> => {
  if (o.connections !== 1 || o.partitions !== 1 || o.byLeader === true || (o.producer ?? { kind: "plain" }).kind !== "plain") {
    throw new Error("a tailed producer: one connection, partition 0, plain batches")
  }
  const version = 12
  const request = fetchRequests({ topic: o.topic, partition: 0, maxBytes: 1024 * 1024, maxWaitMs: o.maxWaitMs, minBytes: o.minBytes, version })
  const conn = new FrameConnection(await connect(o.port, o.host ?? "127.0.0.1", o.security))
  /** Times (performance.now()): of each produce request's send, by batch; of each record's arrival, by offset; of Fetch answers. */
  const sentAt = new Samples()
  const receivedAt = new Samples()
  const answeredAt = new Samples()
  const emptyAt = new Samples()
  /** The records produced, once the producer is done. */
  let until = Infinity
  let offset = 0
  const tail = (async () => {
    for (let id = 1; offset < until; id++) {
      conn.write(request(id, offset))
      let frame: Parts
      try {
        frame = await conn.next()
      } catch (e) {
        if (offset >= until) return
        throw new Error(`the consumer got to offset ${offset}${until < Infinity ? ` of ${until}` : ""}: ${(e as Error).message}`)
      }
      const now = performance.now()
      const r = readFetchResponse(frame, version)
      if (r.correlationId !== id) throw new Error(`correlation id ${r.correlationId}, expected ${id}`)
      if (r.errorCode !== 0) throw new Error(`Fetch error ${r.errorCode}`)
      if (r.partitionError === UNKNOWN_TOPIC_OR_PARTITION && offset === 0) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        continue
      }
      if (r.partitionError !== 0) throw new Error(`Fetch error ${r.partitionError} for ${o.topic}-0 at offset ${offset}`)
      answeredAt.add(now)
      if (r.records === 0) emptyAt.add(now)
      for (; offset < r.nextOffset; offset++) receivedAt.add(now)
    }
  })()
  const stopProducer = new AbortController()
  tail.catch(() => stopProducer.abort())
  let produce: ProduceResult
  try {
    produce = await runProduce({ ...o, signal: stopProducer.signal, onSend: (at) => sentAt.add(at) })
    if (produce.errors > 0) throw new Error(`${produce.errors} produce errors (first: ${produce.firstError}): the offsets of the sends are not known`)
    until = sentAt.length * o.recordsPerBatch
    // Caught up: the Fetch waiting now would only time out.
    if (offset >= until) conn.close()
    const timer = setTimeout(() => conn.close(), CATCH_UP_MS)
    await tail.finally(() => clearTimeout(timer))
  } finally {
    conn.close()
    await tail.catch(() => undefined)
  }
  if (offset > until) throw new Error(`the consumer read to offset ${offset}, past the ${until} records produced: the partition was not fresh`)
  const from = produce.measuredFrom
  const to = produce.measuredTo
  const latency = new Samples()
  for (let k = 0; k < receivedAt.length; k++) {
    const sent = sentAt.get(Math.floor(k / o.recordsPerBatch))
    if (sent >= from && sent <= to) latency.add((receivedAt.get(k) - sent) * 1000)
  }
  const within = (times: Samples) => {
    let n = 0
    for (let i = 0; i < times.length; i++) if (times.get(i) >= from && times.get(i) <= to) n++
    return n
  }
  const requests = within(answeredAt)
  return {
    produce,
    tail: { requests, requestsPerSec: requests / produce.seconds, empty: within(emptyAt), records: latency.length, latency: latency.summary() }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Administration

/** Creates topics through CreateTopics (v4); an existing topic is fine. */
export const createTopics = async (port: number, topics: Readonly<Record<string, number>>, host = "127.0.0.1"): Promise<void> => {
  const client = await RawClient.connect(port, host)
  try {
    const response = await client.request(CreateTopics, 4, {
      topics: Object.entries(topics).map(([name, numPartitions]) => ({ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] })),
      timeoutMs: 60_000,
      validateOnly: false
    })
    for (const t of response.topics) {
      if (t.errorCode !== 0 && t.errorCode !== 36) throw new Error(`CreateTopics ${t.name}: error ${t.errorCode} ${t.errorMessage ?? ""}`)
    }
  } finally {
    client.close()
  }
}

/** A broker and the partitions of a topic it leads. */
export interface Leader {
  readonly nodeId: number
  readonly host: string
  readonly port: number
  readonly partitions: ReadonlyArray<number>
}

/** What one broker's Metadata (v12) says: the live brokers' ids, and each partition's leader (-1: none) and error. */
export const clusterView = async (port: number, topic: string, host = "127.0.0.1") => {
  const client = await RawClient.connect(port, host)
  try {
    const response = await client.request(Metadata, 12, { topics: [{ topicId: ZERO_UUID, name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })
    const t = response.topics[0]
    return {
      brokers: response.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })).sort((a, b) => a.nodeId - b.nodeId),
      errorCode: t?.errorCode ?? -1,
      partitions: (t?.partitions ?? []).map((p) => ({ partition: p.partitionIndex, leader: p.errorCode === 0 ? p.leaderId : -1 })).sort((a, b) => a.partition - b.partition)
    }
  } finally {
    client.close()
  }
}

/** Partitions 0..partitions-1 of `topic` by leader, as the broker at `port` sees them; fails when one has none. */
export const leadersOf = async (port: number, topic: string, partitions: number, host = "127.0.0.1"): Promise<Array<Leader>> => {
  const view = await clusterView(port, topic, host)
  if (view.errorCode !== 0) throw new Error(`Metadata ${topic}: error ${view.errorCode}`)
  const out = new Map<number, { nodeId: number; host: string; port: number; partitions: Array<number> }>()
  for (let p = 0; p < partitions; p++) {
    const leader = view.partitions.find((x) => x.partition === p)?.leader ?? -1
    const broker = view.brokers.find((b) => b.nodeId === leader)
    if (broker === undefined) throw new Error(`Metadata ${topic}-${p}: no live leader (${leader})`)
    const route = out.get(leader) ?? { ...broker, partitions: [] }
    route.partitions.push(p)
    out.set(leader, route)
  }
  return [...out.values()]
}

/** The log end offset of each partition 0..partitions-1 (ListOffsets v6, latest). */
export const endOffsets = async (port: number, topic: string, partitions: number, host = "127.0.0.1"): Promise<Array<number>> => {
  const client = await RawClient.connect(port, host)
  try {
    const response = await client.request(ListOffsets, 6, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 })) }],
      timeoutMs: 30_000
    })
    return (response.topics[0]?.partitions ?? []).map((p) => (p.errorCode === 0 ? p.offset : -1))
  } finally {
    client.close()
  }
}

/** One ApiVersions round trip (v3); resolves when answered. */
export const apiVersions = async (port: number, host = "127.0.0.1"): Promise<void> => {
  const client = await RawClient.connect(port, host)
  try {
    const response = await client.request(ApiVersions, 3, { clientSoftwareName: "bench", clientSoftwareVersion: "1" })
    if (response.errorCode !== 0) throw new Error(`ApiVersions error ${response.errorCode}`)
  } finally {
    client.close()
  }
}

// ---------------------------------------------------------------------------------------------------------
// Send cost: encoding fresh vs copying the template vs the gathered prefix + shared tail

export const measureSendCost = (recordSize = 1024, recordsPerBatch = 100, partitions = 8): Array<string> => {
  const batch = makeBatch(recordSize, recordsPerBatch)
  const ps = Array.from({ length: partitions }, (_, i) => i)
  const t = buildProduce({ topic: "bench", partitions: ps, batch, recordsPerBatch, recordSize, acks: 1, version: PRODUCE_VERSION })
  const time = (n: number, f: (i: number) => unknown) => {
    for (let i = 0; i < Math.min(n, 200); i++) f(i)
    const t0 = performance.now()
    for (let i = 0; i < n; i++) f(i)
    return ((performance.now() - t0) * 1000) / n
  }
  const body = { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: "bench", partitionData: ps.map((index) => ({ index, records: batch })) }] }
  const n = 2000
  const fresh = time(n, (i) => RawClient.encode(Produce, PRODUCE_VERSION, body, i, "bench"))
  const copy = time(n, (i) => {
    const c = Buffer.allocUnsafe(t.frame.length)
    t.frame.copy(c)
    c.writeInt32BE(i, 8)
    return c
  })
  const prefix = time(n * 20, (i) => {
    const p = Buffer.allocUnsafe(12)
    t.frame.copy(p, 0, 0, 8)
    p.writeInt32BE(i, 8)
    return p
  })
  return [
    `request of ${t.frame.length} bytes (${partitions} × ${recordsPerBatch} × ${recordSize} B):`,
    `  encode fresh ${fresh.toFixed(1)} µs, copy template ${copy.toFixed(1)} µs, prefix + shared tail ${prefix.toFixed(2)} µs`
  ]
}

// ---------------------------------------------------------------------------------------------------------
// Command line

const isMain = process.argv[1] !== undefined && import.meta.filename === realpathSync(process.argv[1])

if (isMain) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      topic: { type: "string", default: "bench" },
      partitions: { type: "string", default: "8" },
      "partitions-per-request": { type: "string" },
      partition: { type: "string", default: "0" },
      "record-size": { type: "string", default: "1024" },
      batch: { type: "string", default: "100" },
      connections: { type: "string", default: "4" },
      inflight: { type: "string", default: "8" },
      acks: { type: "string", default: "1" },
      version: { type: "string" },
      seconds: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      "total-mb": { type: "string" },
      send: { type: "string", default: "gather" },
      "max-bytes": { type: "string", default: String(32 * 1024 * 1024) },
      producer: { type: "string", default: "plain" },
      "txn-batches": { type: "string", default: "100" },
      create: { type: "boolean", default: false },
      tls: { type: "boolean", default: false },
      "sasl-plain": { type: "string" },
      "by-leader": { type: "boolean", default: false },
      tail: { type: "boolean", default: false },
      "max-wait-ms": { type: "string", default: "500" }
    }
  })
  const mode = positionals[0] ?? "produce"
  const num = (k: keyof typeof values) => Number(values[k])
  const ms = (us: number) => (us / 1000).toFixed(3)
  if (mode === "send-cost") {
    for (const line of measureSendCost()) console.log(line)
    for (const line of measureSendCost(100, 1, 1)) console.log(line)
  } else {
    if (values.port === undefined) throw new Error("--port is required")
    const port = num("port")
    const host = values.host
    const plain = values["sasl-plain"]?.split(":")
    const security: Security = {
      tls: values.tls,
      ...(plain === undefined ? {} : { plain: { username: plain[0]!, password: plain.slice(1).join(":") } })
    }
    if (values.create) await createTopics(port, { [values.topic]: num("partitions") }, host)
    if (mode === "produce") {
      const options: ProduceOptions = {
        host,
        port,
        topic: values.topic,
        partitions: num("partitions"),
        partitionsPerRequest: values["partitions-per-request"] === undefined ? undefined : num("partitions-per-request"),
        recordSize: num("record-size"),
        recordsPerBatch: num("batch"),
        connections: num("connections"),
        inflight: num("inflight"),
        acks: num("acks"),
        version: values.version === undefined ? undefined : num("version"),
        seconds: num("seconds"),
        warmupSeconds: num("warmup"),
        totalBytes: values["total-mb"] === undefined ? undefined : num("total-mb") * 1e6,
        send: values.send === "copy" ? "copy" : "gather",
        producer: values.producer === "transactional"
          ? { kind: "transactional", commitEvery: num("txn-batches") }
          : values.producer === "idempotent"
          ? { kind: "idempotent" }
          : { kind: "plain" },
        security,
        byLeader: values["by-leader"]
      }
      const { produce: r, tail } = values.tail
        ? await runProduceAndTail({ ...options, maxWaitMs: num("max-wait-ms"), minBytes: 1 })
        : { produce: await runProduce(options), tail: undefined }
      console.log(
        `${r.records} records in ${r.seconds.toFixed(1)} s: ${Math.round(r.recordsPerSec)} records/s, ${r.payloadMBps.toFixed(1)} MB/s payload (${r.wireMBps.toFixed(1)} MB/s on the wire), ` +
          `latency p50 ${ms(r.latency.p50)} ms p99 ${ms(r.latency.p99)} ms p999 ${ms(r.latency.p999)} ms max ${ms(r.latency.max)} ms` +
          (r.errors > 0 ? `, ${r.errors} partition errors (first: ${r.firstError})` : "") +
          `; requests answered per connection ${r.perConnection.min}-${r.perConnection.max} (median ${r.perConnection.median})`
      )
      if (tail !== undefined) {
        console.log(
          `consumer: ${tail.requests} Fetch requests answered (${Math.round(tail.requestsPerSec)}/s, ${tail.empty} without records), ${tail.records} records; ` +
            `end to end p50 ${ms(tail.latency.p50)} ms p99 ${ms(tail.latency.p99)} ms p999 ${ms(tail.latency.p999)} ms max ${ms(tail.latency.max)} ms`
        )
      }
    } else if (mode === "fetch") {
      const r = await runFetch({ host, port, topic: values.topic, partition: num("partition"), maxBytes: num("max-bytes"), version: values.version === undefined ? undefined : num("version"), security })
      console.log(`${r.bytes} bytes (${r.records} records, ${r.batches} batches, offsets 0-${r.endOffset}) in ${r.seconds.toFixed(2)} s over ${r.requests} requests: ${r.MBps.toFixed(0)} MB/s`)
    } else {
      throw new Error(`unknown mode ${mode}: produce, fetch or send-cost`)
    }
  }
}
