// The reference: the least a Node process has to do for the benchmark's Produce work, written directly on
// `node:net` and `node:fs`, with nothing in between. It frames requests (a frame inside one socket chunk is a
// view of it; a frame spanning chunks is copied once into a buffer of its size), reads Produce v0-v11 by hand,
// checks each partition's batch as the broker does (magic 2, length, CRC-32C through the same native package),
// patches base offset and leader epoch in place, appends it to `<dir>/<topic>-<partition>/00000000000000000000.log`
// at the partition's end (positional writes; base offsets count per partition from 0), and answers a valid
// Produce response for the request's version once the write is done (acks=0: no answer). Responses leave in
// request order, several per writev when ready together. It also serves Fetch v4-v12 (topic names; whole
// batches from the one holding the offset, found by binary search in an in-memory list of batch positions; read
// into one buffer and written after the response header without a copy; a minimal long poll: a Fetch with nothing
// to return waits for the next append to one of its partitions, max_wait_ms at most) and ApiVersions (v0-v4);
// any other request closes the connection. No fsync, as the broker's default (`log.flush.interval.*` unset: the
// OS decides). Each start truncates what it finds: it is meant for a fresh directory.
//
//   node bench/reference-server.ts --dir /tmp/ref [--port 0] [--host 127.0.0.1] [--io auto|sync|async]
//
// --io auto (default): a request under 64 KiB is written with `fs.writeSync` on the event loop and answered right
// away (a page-cache write of a small batch costs a few microseconds, less than a hand-off to the thread pool and
// back); a larger one with `fs.writev` on libuv's thread pool, the event loop reading the next requests meanwhile,
// coalescing the batches queued for a partition while its previous write runs. Fetch reads likewise: readSync
// under 64 KiB, else fs.read. --io sync / --io async force one way. On the 2-core machine this was written on,
// sync gave the best latency (p99 of single-record requests ~0.6x async's), async the same or better throughput
// with large or wide requests; auto takes both.
// Prints `listening on <host>:<port> (reference)`; stops on SIGTERM/SIGINT.
import { crc32c } from "@node-rs/crc32"
import * as fs from "node:fs"
import * as net from "node:net"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { frameReader } from "./frames.ts"

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    io: { type: "string", default: "auto" }
  }
})
if (values.dir === undefined) throw new Error("--dir is required")
const dir = values.dir
const io = values.io === "async" || values.io === "sync" ? values.io : "auto"
/** In auto mode, requests below this size are written synchronously (partitions with nothing queued). */
const SYNC_BELOW = 64 * 1024

const PRODUCE = 0
const FETCH = 1
const API_VERSIONS = 18
const OFFSET_OUT_OF_RANGE = 1
const CORRUPT_MESSAGE = 2
const UNKNOWN_TOPIC_OR_PARTITION = 3
const UNSUPPORTED_VERSION = 35

// ---------------------------------------------------------------------------------------------------------
// Partition files

class PartitionFile {
  readonly fd: number
  /** Where the next batch goes (past the ones written and the ones queued). */
  end = 0
  nextOffset = 0
  /** Batches written (readable by Fetch): base offsets and positions, in order. */
  readonly baseOffsets: Array<number> = []
  readonly positions: Array<number> = []
  /** The end of the written bytes and offsets: Fetch's high watermark. */
  writtenEnd = 0
  writtenOffset = 0
  /** Long polls waiting for the next batch written: each removes itself from all its partitions when called. */
  readonly waiters = new Set<() => void>()
  private queue: Array<Buffer> = []
  private pending: Array<{ readonly base: number; readonly position: number; readonly next: number; readonly done: () => void }> = []
  private writing = false

  constructor(path: string) {
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o644)
  }

  /**
   * Assigns the batch its base offset and position and writes it: now (`sync`, when nothing is queued for the
   * partition) or queued for the next writev on the thread pool. `done` runs once the bytes are written.
   */
  append(batch: Buffer, count: number, sync: boolean, done: () => void): number {
    const base = this.nextOffset
    const position = this.end
    this.nextOffset += count
    this.end += batch.length
    batch.writeUInt32BE(Math.floor(base / 4294967296), 0)
    batch.writeUInt32BE(base >>> 0, 4)
    batch.writeInt32BE(0, 12)
    if (sync && !this.writing) {
      let n = 0
      while (n < batch.length) n += fs.writeSync(this.fd, batch, n, batch.length - n, position + n)
      this.written(base, position, this.nextOffset)
      done()
      this.wake()
    } else {
      this.queue.push(batch)
      this.pending.push({ base, position, next: this.nextOffset, done })
      if (!this.writing) this.flush()
    }
    return base
  }

  private wake(): void {
    if (this.waiters.size > 0) for (const w of [...this.waiters]) w()
  }

  private written(base: number, position: number, next: number): void {
    this.baseOffsets.push(base)
    this.positions.push(position)
    this.writtenOffset = next
    this.writtenEnd = this.end
  }

  private flush(): void {
    const buffers = this.queue
    const pending = this.pending
    this.queue = []
    this.pending = []
    this.writing = true
    let total = 0
    for (const b of buffers) total += b.length
    fs.writev(this.fd, buffers, pending[0]!.position, (error, n) => {
      if (error !== null || n !== total) throw error ?? new Error(`short write: ${n} of ${total}`)
      this.writing = false
      for (const p of pending) {
        this.baseOffsets.push(p.base)
        this.positions.push(p.position)
        this.writtenOffset = p.next
      }
      this.writtenEnd = pending.at(-1)!.position + buffers.at(-1)!.length
      for (const p of pending) p.done()
      this.wake()
      if (this.queue.length > 0) this.flush()
    })
  }

  /** The byte range of whole batches from the one holding `offset`, at most `maxBytes` (at least one batch). */
  range(offset: number, maxBytes: number): { readonly position: number; readonly length: number } {
    const bases = this.baseOffsets
    let lo = 0
    let hi = bases.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (bases[mid]! <= offset) lo = mid + 1
      else hi = mid
    }
    const first = lo - 1
    if (first < 0 || offset >= this.writtenOffset) return { position: this.writtenEnd, length: 0 }
    const start = this.positions[first]!
    const count = bases.length
    const boundary = (j: number) => (j + 1 < count ? this.positions[j + 1]! : this.writtenEnd)
    // The last batch ending within maxBytes of the start; the first one in any case.
    let best = first
    lo = first
    hi = count - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (boundary(mid) - start <= maxBytes) {
        best = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    const end = boundary(best)
    return { position: start, length: end - start }
  }
}

const topics = new Map<string, Array<PartitionFile>>()

const partitionFile = (topic: string, index: number): PartitionFile => {
  let byIndex = topics.get(topic)
  if (byIndex === undefined) topics.set(topic, (byIndex = []))
  let file = byIndex[index]
  if (file === undefined) {
    const partitionDir = join(dir, `${topic}-${index}`)
    fs.mkdirSync(partitionDir, { recursive: true })
    file = byIndex[index] = new PartitionFile(join(partitionDir, "00000000000000000000.log"))
  }
  return file
}

// ---------------------------------------------------------------------------------------------------------
// Reading requests

class Reader {
  at: number
  readonly b: Buffer
  readonly flexible: boolean
  constructor(b: Buffer, at: number, flexible: boolean) {
    this.b = b
    this.at = at
    this.flexible = flexible
  }
  int16(): number {
    const v = this.b.readInt16BE(this.at)
    this.at += 2
    return v
  }
  int32(): number {
    const v = this.b.readInt32BE(this.at)
    this.at += 4
    return v
  }
  int64(): number {
    const v = this.b.readInt32BE(this.at) * 4294967296 + this.b.readUInt32BE(this.at + 4)
    this.at += 8
    return v
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
    if (!this.flexible) return
    const n = this.uvarint()
    for (let i = 0; i < n; i++) {
      this.uvarint()
      this.at += this.uvarint()
    }
  }
  count(): number {
    return this.flexible ? this.uvarint() - 1 : this.int32()
  }
  /** A nullable string; null as -1 length. */
  string(): string | null {
    const n = this.flexible ? this.uvarint() - 1 : this.int16()
    if (n < 0) return null
    const s = this.b.toString("utf8", this.at, this.at + n)
    this.at += n
    return s
  }
  bytes(): Buffer | null {
    const n = this.flexible ? this.uvarint() - 1 : this.int32()
    if (n < 0) return null
    const v = this.b.subarray(this.at, this.at + n)
    this.at += n
    return v
  }
}

// ---------------------------------------------------------------------------------------------------------
// Writing responses

class Writer {
  readonly b: Buffer
  at = 0
  readonly flexible: boolean
  constructor(capacity: number, flexible: boolean) {
    this.b = Buffer.allocUnsafe(capacity)
    this.flexible = flexible
  }
  int16(v: number): void {
    this.at = this.b.writeInt16BE(v, this.at)
  }
  int32(v: number): void {
    this.at = this.b.writeInt32BE(v, this.at)
  }
  int64(v: number): void {
    const hi = Math.floor(v / 4294967296)
    this.at = this.b.writeInt32BE(hi, this.at)
    this.at = this.b.writeUInt32BE(v - hi * 4294967296, this.at)
  }
  uvarint(v: number): void {
    while (v >= 0x80) {
      this.b[this.at++] = (v & 0x7f) | 0x80
      v = Math.floor(v / 128)
    }
    this.b[this.at++] = v
  }
  count(n: number): void {
    if (this.flexible) this.uvarint(n + 1)
    else this.int32(n)
  }
  string(s: string | null): void {
    if (s === null) {
      if (this.flexible) this.uvarint(0)
      else this.int16(-1)
      return
    }
    const n = Buffer.byteLength(s)
    if (this.flexible) this.uvarint(n + 1)
    else this.int16(n)
    this.at += this.b.write(s, this.at)
  }
  tags(): void {
    if (this.flexible) this.uvarint(0)
  }
  private parts: Array<Buffer> = []
  private partStart = 0
  private external = 0
  /** Puts `bytes` next in the output by reference (no copy); writing goes on after it. */
  attach(bytes: Buffer): void {
    this.parts.push(this.b.subarray(this.partStart, this.at), bytes)
    this.partStart = this.at
    this.external += bytes.length
  }
  /** The frame: patches the size prefix written as a placeholder at 0. */
  frame(): Buffer {
    this.b.writeInt32BE(this.at - 4, 0)
    return this.b.subarray(0, this.at)
  }
  /** The frame as the chunks of one gathered write, when `attach` was used. */
  frameParts(): Array<Buffer> {
    this.b.writeInt32BE(this.at + this.external - 4, 0)
    return [...this.parts, this.b.subarray(this.partStart, this.at)]
  }
}

interface PartitionResult {
  readonly index: number
  readonly errorCode: number
  readonly baseOffset: number
}

interface TopicResult {
  readonly name: string
  readonly partitions: Array<PartitionResult>
}

const produceResponse = (correlationId: number, version: number, results: ReadonlyArray<TopicResult>): Buffer => {
  const flexible = version >= 9
  let capacity = 32
  for (const t of results) capacity += Buffer.byteLength(t.name) + 16 + t.partitions.length * 48
  const w = new Writer(capacity, flexible)
  w.int32(0)
  w.int32(correlationId)
  w.tags()
  w.count(results.length)
  for (const t of results) {
    w.string(t.name)
    w.count(t.partitions.length)
    for (const p of t.partitions) {
      w.int32(p.index)
      w.int16(p.errorCode)
      w.int64(p.baseOffset)
      if (version >= 2) w.int64(-1)
      if (version >= 5) w.int64(0)
      if (version >= 8) {
        w.count(0)
        w.string(null)
      }
      w.tags()
    }
    w.tags()
  }
  if (version >= 1) w.int32(0)
  w.tags()
  return w.frame()
}

const apiVersionsResponse = (correlationId: number, version: number): Buffer => {
  const supported = version <= 4
  const flexible = supported && version >= 3
  const w = new Writer(64, flexible)
  w.int32(0)
  w.int32(correlationId)
  w.int16(supported ? 0 : UNSUPPORTED_VERSION)
  w.count(3)
  for (const [key, min, max] of [[PRODUCE, 0, 11], [FETCH, 4, 12], [API_VERSIONS, 0, 4]] as const) {
    w.int16(key)
    w.int16(min)
    w.int16(max)
    w.tags()
  }
  if (supported && version >= 1) w.int32(0)
  w.tags()
  return w.frame()
}

interface FetchPartition {
  readonly index: number
  errorCode: number
  highWatermark: number
  records: Buffer
}

interface FetchTopic {
  readonly name: string
  readonly partitions: Array<FetchPartition>
}

/** What a Fetch asks of a topic: per partition, the offset, the bytes at most, and its file when it has one. */
interface FetchWanted {
  readonly name: string
  readonly partitions: ReadonlyArray<{ readonly index: number; readonly offset: number; readonly maxBytes: number; readonly file: PartitionFile | undefined }>
}

const fetchResponse = (correlationId: number, version: number, results: ReadonlyArray<FetchTopic>): Array<Buffer> => {
  const flexible = version >= 12
  let capacity = 48
  for (const t of results) capacity += Buffer.byteLength(t.name) + 16 + t.partitions.length * 64
  const w = new Writer(capacity, flexible)
  w.int32(0)
  w.int32(correlationId)
  w.tags()
  w.int32(0)
  if (version >= 7) {
    w.int16(0)
    w.int32(0)
  }
  w.count(results.length)
  for (const t of results) {
    w.string(t.name)
    w.count(t.partitions.length)
    for (const p of t.partitions) {
      w.int32(p.index)
      w.int16(p.errorCode)
      w.int64(p.highWatermark)
      w.int64(p.highWatermark)
      if (version >= 5) w.int64(0)
      if (flexible) w.uvarint(0)
      else w.int32(-1)
      if (version >= 11) w.int32(-1)
      if (flexible) w.uvarint(p.records.length + 1)
      else w.int32(p.records.length)
      if (p.records.length > 0) w.attach(p.records)
      w.tags()
    }
    w.tags()
  }
  w.tags()
  return w.frameParts()
}

const readFully = (fd: number, buffer: Buffer, position: number, done: () => void): void => {
  let n = 0
  const next = () =>
    fs.read(fd, buffer, n, buffer.length - n, position + n, (error, k) => {
      if (error !== null) throw error
      if (k === 0) throw new Error(`end of file at ${position + n}`)
      n += k
      if (n < buffer.length) next()
      else done()
    })
  next()
}

// ---------------------------------------------------------------------------------------------------------
// Produce and Fetch

/** Checks a batch as the broker does and returns its record count, or -1 when it is not one valid v2 batch. */
const checkBatch = (batch: Buffer): number => {
  if (batch.length < 61 || batch[16] !== 2) return -1
  if (batch.readInt32BE(8) + 12 !== batch.length) return -1
  if ((crc32c(batch.subarray(21)) >>> 0) !== batch.readUInt32BE(17)) return -1
  const count = batch.readInt32BE(57)
  return count > 0 && batch.readInt32BE(23) === count - 1 ? count : -1
}

interface Slot {
  response: Buffer | Array<Buffer> | null
  waiting: number
}

class ConnectionState {
  private readonly socket: net.Socket
  private readonly slots: Array<Slot> = []

  constructor(socket: net.Socket) {
    this.socket = socket
  }

  ready(slot: Slot): void {
    if (this.slots[0] !== slot) return
    let n = 0
    while (n < this.slots.length && this.slots[n]!.waiting === 0) n++
    const out = this.slots.splice(0, n)
    const single = out.length === 1 ? out[0]!.response! : undefined
    if (single !== undefined && !Array.isArray(single)) {
      this.socket.write(single)
    } else {
      this.socket.cork()
      for (const s of out) {
        const r = s.response!
        if (Array.isArray(r)) for (const b of r) this.socket.write(b)
        else this.socket.write(r)
      }
      this.socket.uncork()
    }
  }

  produce(frame: Buffer, at: number, correlationId: number, version: number): void {
    const r = new Reader(frame, at, version >= 9)
    if (version >= 3) r.string()
    const acks = r.int16()
    r.int32()
    const topicCount = r.count()
    const results: Array<TopicResult> = []
    const slot: Slot = { response: null, waiting: 1 }
    const small = io === "sync" || (io === "auto" && frame.length < SYNC_BELOW)
    const done = () => {
      if (--slot.waiting === 0) this.ready(slot)
    }
    for (let t = 0; t < topicCount; t++) {
      const name = r.string() ?? ""
      const partitionCount = r.count()
      const partitions: Array<PartitionResult> = []
      for (let p = 0; p < partitionCount; p++) {
        const index = r.int32()
        const batch = r.bytes()
        r.skipTags()
        const count = batch === null ? -1 : checkBatch(batch)
        if (count < 0) {
          partitions.push({ index, errorCode: CORRUPT_MESSAGE, baseOffset: -1 })
          continue
        }
        slot.waiting++
        const baseOffset = partitionFile(name, index).append(batch!, count, small, done)
        partitions.push({ index, errorCode: 0, baseOffset })
      }
      r.skipTags()
      results.push({ name, partitions })
    }
    if (acks === 0) return
    slot.response = produceResponse(correlationId, version, results)
    this.slots.push(slot)
    done()
  }

  /**
   * Fetch v4-v12 (topic names): whole batches from the one holding the offset. A long poll (max_wait_ms and
   * min_bytes above 0) with nothing to return, each of its partitions known and read to its end, waits for the
   * next append to one of them, max_wait_ms at most, then answers what there is (min_bytes counts as 1: one batch
   * is enough).
   */
  fetch(frame: Buffer, at: number, correlationId: number, version: number): void {
    const r = new Reader(frame, at, version >= 12)
    r.int32()
    const maxWaitMs = r.int32()
    const minBytes = r.int32()
    const maxBytes = r.int32()
    r.at += 1
    if (version >= 7) r.at += 8
    const wanted: Array<FetchWanted> = []
    const topicCount = r.count()
    for (let t = 0; t < topicCount; t++) {
      const name = r.string() ?? ""
      const partitionCount = r.count()
      const partitions: Array<FetchWanted["partitions"][number]> = []
      for (let p = 0; p < partitionCount; p++) {
        const index = r.int32()
        if (version >= 9) r.int32()
        const offset = r.int64()
        if (version >= 12) r.int32()
        if (version >= 5) r.int64()
        const maxBytes = r.int32()
        r.skipTags()
        partitions.push({ index, offset, maxBytes, file: topics.get(name)?.[index] })
      }
      r.skipTags()
      wanted.push({ name, partitions })
    }
    const slot: Slot = { response: null, waiting: 1 }
    this.slots.push(slot)
    const answer = () => this.fetchRead(slot, correlationId, version, wanted, maxBytes)
    const files = wanted.flatMap((t) => t.partitions.map((p) => p.file))
    const atEnd = wanted.every((t) => t.partitions.every((p) => p.file !== undefined && p.offset === p.file.writtenOffset))
    if (maxWaitMs <= 0 || minBytes <= 0 || files.length === 0 || !atEnd) return answer()
    const wake = () => {
      clearTimeout(timer)
      for (const f of files) f!.waiters.delete(wake)
      answer()
    }
    for (const f of files) f!.waiters.add(wake)
    const timer = setTimeout(wake, maxWaitMs)
  }

  /** Reads what a Fetch asks for into its slot (which holds one `waiting` for this call) and answers it. */
  private fetchRead(slot: Slot, correlationId: number, version: number, wanted: ReadonlyArray<FetchWanted>, maxBytes: number): void {
    let budget = maxBytes
    const results: Array<FetchTopic> = []
    const done = () => {
      if (--slot.waiting > 0) return
      slot.response = fetchResponse(correlationId, version, results)
      this.ready(slot)
    }
    for (const t of wanted) {
      const partitions: Array<FetchPartition> = []
      for (const { index, offset, maxBytes: partitionMaxBytes, file } of t.partitions) {
        const out: FetchPartition = { index, errorCode: 0, highWatermark: -1, records: Buffer.alloc(0) }
        partitions.push(out)
        if (file === undefined) {
          out.errorCode = UNKNOWN_TOPIC_OR_PARTITION
          continue
        }
        out.highWatermark = file.writtenOffset
        if (offset < 0 || offset > file.writtenOffset) {
          out.errorCode = OFFSET_OUT_OF_RANGE
          continue
        }
        const { position, length } = file.range(offset, Math.max(0, Math.min(partitionMaxBytes, budget)))
        if (length === 0) continue
        budget -= length
        const buffer = Buffer.allocUnsafe(length)
        if (io === "sync" || (io === "auto" && length < SYNC_BELOW)) {
          let n = 0
          while (n < length) n += fs.readSync(file.fd, buffer, n, length - n, position + n)
          out.records = buffer
        } else {
          slot.waiting++
          readFully(file.fd, buffer, position, () => {
            out.records = buffer
            done()
          })
        }
      }
      results.push({ name: t.name, partitions })
    }
    done()
  }

  apiVersions(correlationId: number, version: number): void {
    const slot: Slot = { response: apiVersionsResponse(correlationId, version), waiting: 0 }
    this.slots.push(slot)
    this.ready(slot)
  }
}

const serve = (socket: net.Socket) => {
  socket.setNoDelay(true)
  const state = new ConnectionState(socket)
  const read = frameReader((frame) => {
    const apiKey = frame.readInt16BE(0)
    const version = frame.readInt16BE(2)
    const correlationId = frame.readInt32BE(4)
    const clientIdLength = frame.readInt16BE(8)
    const at = 10 + Math.max(0, clientIdLength)
    if (apiKey === PRODUCE && version <= 11) {
      const r = new Reader(frame, at, version >= 9)
      r.skipTags()
      state.produce(frame, r.at, correlationId, version)
    } else if (apiKey === FETCH && version >= 4 && version <= 12) {
      const r = new Reader(frame, at, version >= 12)
      r.skipTags()
      state.fetch(frame, r.at, correlationId, version)
    } else if (apiKey === API_VERSIONS) {
      state.apiVersions(correlationId, version)
    } else {
      console.error(`api key ${apiKey} v${version} is not served: closing the connection`)
      socket.destroy()
    }
  }, 100 * 1024 * 1024)
  socket.on("data", (chunk: Buffer) => {
    socket.cork()
    try {
      read(chunk)
    } catch (e) {
      console.error(`closing a connection: ${(e as Error).message}`)
      socket.destroy()
    }
    socket.uncork()
  })
  socket.on("error", () => undefined)
}

fs.mkdirSync(dir, { recursive: true })
const server = net.createServer(serve)
server.listen(Number(values.port), values.host, () => {
  const address = server.address() as net.AddressInfo
  console.log(`listening on ${values.host}:${address.port} (reference, ${io} writes)`)
})
const stop = () => {
  server.close()
  for (const files of topics.values()) for (const f of files) if (f !== undefined) fs.closeSync(f.fd)
  process.exit(0)
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
