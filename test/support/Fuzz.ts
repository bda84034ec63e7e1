// A protocol fuzzer for the broker. Requests for every served API are generated from the message definitions
// themselves (any version in the advertised range, field values at their limits, names that exist and names
// that do not, record batches valid and not), then often mutated: bytes flipped, lengths made to lie, frames
// truncated, random bytes appended, versions and api keys off the table, or frames of pure noise. Frames go
// out over TCP in pipelined batches; after each batch `check` must pass (the broker answers, its stored records
// are intact, its memory is bounded). Seeded: the same seed sends the same frames.
import * as net from "node:net"
import { Codec } from "../../src/protocol/Compression.ts"
import { requestFrame } from "../../src/protocol/Frames.ts"
import { type Api, isFlexible, type Type } from "../../src/protocol/Message.ts"
import { Framer } from "../../src/services/network/Framer.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import { handlers } from "../../src/services/api/Apis.ts"

/** mulberry32: small, fast, and the same everywhere. */
export const random = (seed: number) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  return { next, int, pick: <A>(xs: ReadonlyArray<A>): A => xs[int(xs.length)]!, chance: (p: number) => next() < p }
}
export type Random = ReturnType<typeof random>

export interface Dictionary {
  /** Topics that exist, and whose data the fuzzer may damage. */
  readonly topics: ReadonlyArray<string>
  readonly topicIds: ReadonlyArray<string>
  readonly groups: ReadonlyArray<string>
}

const INTS: Record<string, ReadonlyArray<number>> = {
  int8: [0, 1, -1, 127, -128],
  int16: [0, 1, -1, 2, 32767, -32768],
  uint16: [0, 1, 65535],
  int32: [0, 1, -1, 2, 100, 2147483647, -2147483648, 16_777_216, 100_000, 1_000_000_000],
  uint32: [0, 1, 4294967295],
  int64: [0, 1, -1, -2, -3, -4, 2 ** 53 - 1, -(2 ** 53) + 1, 1_700_000_000_000, 2 ** 40]
}

const randomAscii = (rng: Random, n: number) => {
  let s = ""
  for (let i = 0; i < n; i++) s += String.fromCharCode(32 + rng.int(95))
  return s
}

const randomUuid = (rng: Random) =>
  Array.from({ length: 16 }, () => rng.int(256).toString(16).padStart(2, "0")).join("").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5")

const randomBytes = (rng: Random, n: number) => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = rng.int(256)
  return out
}

/** A record batch as a producer sends it: some records, sometimes compressed, sometimes idempotent. */
const randomBatch = (rng: Random): Uint8Array => {
  const n = 1 + rng.int(rng.chance(0.1) ? 50 : 4)
  const records = Array.from({ length: n }, (_, i) => ({
    key: rng.chance(0.3) ? null : new TextEncoder().encode(`k${rng.int(20)}`),
    value: rng.chance(0.05) ? null : randomBytes(rng, rng.int(rng.chance(0.05) ? 20_000 : 60)),
    headers: rng.chance(0.2) ? [{ key: "h", value: randomBytes(rng, 4) }] : [],
    timestamp: rng.chance(0.1) ? rng.pick(INTS.int64!) : 1_700_000_000_000 + i
  }))
  const idempotent = rng.chance(0.2)
  return encodeBatch(records, {
    compression: rng.chance(0.3) ? rng.pick([Codec.Gzip, Codec.Snappy, Codec.Lz4, Codec.Zstd]) : Codec.None,
    ...(idempotent ? { producerId: rng.int(1000), producerEpoch: rng.int(3), baseSequence: rng.int(10) } : {})
  })
}

/** A value of `type` at `version`: the fields that version has, at their limits or ordinary, sometimes null. */
const valueOf = (rng: Random, type: Type<unknown>, version: number, flexible: boolean, nullable: boolean, dict: Dictionary, name: string): unknown => {
  if (nullable && rng.chance(0.1)) return null
  switch (type.kind) {
    case "primitive":
      if (type.name === "bool") return rng.chance(0.5)
      if (type.name === "float64") return rng.next() * 1000
      if (type.name === "uuid") return rng.chance(0.3) ? "00000000-0000-0000-0000-000000000000" : rng.chance(0.5) && dict.topicIds.length > 0 ? rng.pick(dict.topicIds) : randomUuid(rng)
      return rng.chance(0.6) ? rng.pick(INTS[type.name]!) : rng.int(type.name === "int8" ? 100 : 1000)
    case "string": {
      const lower = name.toLowerCase()
      if (lower.includes("topic") || lower === "name") return rng.chance(0.7) ? rng.pick(dict.topics) : randomAscii(rng, rng.int(30))
      if (lower.includes("group")) return rng.chance(0.7) ? rng.pick(dict.groups) : randomAscii(rng, rng.int(20))
      return rng.chance(0.1) ? randomAscii(rng, 300) : randomAscii(rng, rng.int(12))
    }
    case "bytes":
      return randomBytes(rng, rng.int(rng.chance(0.1) ? 500 : 20))
    case "records":
      return randomBatch(rng)
    case "array": {
      const n = rng.chance(0.1) ? rng.int(30) : rng.int(4)
      return Array.from({ length: n }, () => valueOf(rng, type.element, version, flexible, false, dict, name))
    }
    case "struct": {
      const out: Record<string, unknown> = {}
      for (const [field, f] of Object.entries(type.fields)) {
        const present = version >= f.versions[0] && version <= f.versions[1] && (f.tag === undefined || flexible)
        if (!present) continue
        const isNullable = f.nullable !== undefined && version >= f.nullable[0] && version <= f.nullable[1]
        // Produce's record batches are `bytes` on the wire; give them real batches most of the time.
        const fieldType = field === "records" && f.type.kind === "bytes" && rng.chance(0.8) ? { kind: "records" } as Type<unknown> : f.type
        out[field] = valueOf(rng, fieldType, version, flexible, isNullable, dict, field)
      }
      return out
    }
  }
}

const served = [...handlers.values()]

/** A generated, valid request frame of a random served API and version. */
export const validFrame = (rng: Random, dict: Dictionary, id: number): Uint8Array => {
  const h = rng.pick(served)
  const api = h.api as Api<unknown, unknown>
  const version = h.minVersion + rng.int(h.maxVersion - h.minVersion + 1)
  for (let attempt = 0; ; attempt++) {
    try {
      return requestFrame(api, version, valueOf(rng, api.request, version, isFlexible(api, version), false, dict, api.name), id, "fuzz")
    } catch (e) {
      // A generated value the encoder refuses (a string past 32767 bytes): try another.
      if (attempt > 5) throw e
    }
  }
}

const setSize = (frame: Uint8Array) => {
  new DataView(frame.buffer, frame.byteOffset).setInt32(0, frame.length - 4)
  return frame
}

/** `frame`, changed as an attacker or a broken client would change it. */
export const mutate = (rng: Random, frame: Uint8Array): Uint8Array => {
  const f = frame.slice()
  const view = new DataView(f.buffer)
  switch (rng.int(7) + 3) {
    case 3: {
      // A few bytes of the body flipped.
      for (let i = 0, n = 1 + rng.int(4); i < n && f.length > 4; i++) f[4 + rng.int(f.length - 4)] ^= 1 << rng.int(8)
      return f
    }
    case 4: {
      // A length or count somewhere made to lie.
      if (f.length >= 12) view.setInt32(4 + rng.int(f.length - 8), rng.pick([-1, -2, 0, 1, 0x7fffffff, -0x80000000, 1_000_000, 16_777_216]))
      return f
    }
    case 5: {
      // Cut short (the size prefix tells the truth about the cut).
      return setSize(f.slice(0, 4 + rng.int(f.length - 3)))
    }
    case 6: {
      // Junk after the message.
      return setSize(new Uint8Array(Buffer.concat([f, randomBytes(rng, 1 + rng.int(40))])))
    }
    case 7: {
      // A version or api key off the table.
      if (f.length >= 8) rng.chance(0.5) ? view.setInt16(6, rng.pick([-1, 100, 32767, 12])) : view.setInt16(4, rng.pick([-1, 99, 1000, 24, 67]))
      return f
    }
    case 8: {
      // A frame of noise.
      return setSize(randomBytes(rng, 4 + rng.int(rng.chance(0.1) ? 5000 : 60)))
    }
    default: {
      // A varint somewhere made long: bytes with the continuation bit set.
      if (f.length > 12) {
        const at = 4 + rng.int(f.length - 8)
        for (let i = 0; i < 5 && at + i < f.length; i++) f[at + i] = 0xff
      }
      return f
    }
  }
}

export interface FuzzReport {
  frames: number
  batches: number
  /** Answers read back, and connections the broker closed on a frame. */
  answers: number
  closed: number
}

/**
 * Sends one batch of frames on a new connection, pipelined, and reads until the broker answers them all, closes
 * the connection, or `quietMs` passes with nothing new (a frame that gets no answer: acks=0, a long poll).
 */
const sendBatch = (port: number, frames: ReadonlyArray<Uint8Array>, quietMs: number) =>
  new Promise<{ answers: number; closed: boolean }>((resolve, reject) => {
    let answers = 0
    const framer = new Framer()
    let timer: NodeJS.Timeout | undefined
    const socket = net.createConnection({ host: "127.0.0.1", port }, () => {
      socket.write(Buffer.concat(frames))
      arm()
    })
    const finish = (closed: boolean) => {
      if (timer !== undefined) clearTimeout(timer)
      socket.destroy()
      resolve({ answers, closed })
    }
    const arm = () => {
      if (timer !== undefined) clearTimeout(timer)
      timer = setTimeout(() => finish(false), quietMs)
    }
    socket.on("data", (d: Buffer) => {
      for (const frame of framer.pushParts([d])) if (Array.isArray(frame)) answers++
      if (answers >= frames.length) finish(false)
      else arm()
    })
    socket.on("close", () => finish(true))
    socket.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" || e.code === "EPIPE" ? finish(true) : reject(e)))
  })

export const runFuzz = async (options: {
  readonly port: number
  readonly seed: number
  readonly frames: number
  readonly batch: number
  readonly dictionary: Dictionary
  /** Runs after every batch; throws when the broker is not as it must be. */
  readonly check: (report: FuzzReport) => Promise<void>
  readonly quietMs?: number
  /** The share of frames mutated; the rest are generated requests with extreme values but a valid encoding. */
  readonly mutation?: number
}): Promise<FuzzReport> => {
  const rng = random(options.seed)
  const report: FuzzReport = { frames: 0, batches: 0, answers: 0, closed: 0 }
  while (report.frames < options.frames) {
    const n = Math.min(options.batch, options.frames - report.frames)
    // A bad frame usually ends its connection: the mutated ones are spread thin so that the frames after them
    // are read too.
    const frames = Array.from({ length: n }, (_, i) => {
      const frame = validFrame(rng, options.dictionary, report.frames + i + 1)
      return rng.chance(options.mutation ?? 0.1) ? mutate(rng, frame) : frame
    })
    const result = await sendBatch(options.port, frames, options.quietMs ?? 300)
    report.frames += n
    report.batches++
    report.answers += result.answers
    if (result.closed) report.closed++
    await options.check(report)
  }
  return report
}
