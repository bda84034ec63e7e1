// Runs the Python client scripts under test/e2e/python with the Debian python3 (where python3-kafka and
// python3-confluent-kafka are installed), and the record sets they produce and consume: what to send, and how
// a consumed record must look, printed the way the scripts print keys, values and headers.
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { scanBatches, type BatchHeader } from "../../src/protocol/RecordBatch.ts"

export const PYTHON = "/usr/bin/python3"
const scripts = resolve(import.meta.dirname, "../e2e/python")

/** Whether the Debian python3 can import `module` (kafka, confluent_kafka). */
export const pythonHas = (module: string): boolean =>
  spawnSync(PYTHON, ["-c", `import ${module}`], { stdio: "ignore" }).status === 0

/** Runs a Python expression with `module` imported and returns what it prints. */
export const pythonEval = (module: string, expression: string): string =>
  spawnSync(PYTHON, ["-c", `import ${module}; print(${expression})`], { encoding: "utf8" }).stdout.trim()

export interface Run {
  /** Every JSON line the script printed, in order, without the final `apis` line. */
  readonly lines: Array<any>
  /** The requests the client sent, by "<name>_v<version>", with counts. */
  readonly apis: Record<string, number>
}

const running = new Set<ChildProcess>()

/** Kills the scripts still running (for afterAll, when a test gave up on one). */
export const killScripts = (): void => {
  for (const child of running) child.kill("SIGKILL")
}

/**
 * Runs `script` (a file under test/e2e/python) with a command; rejects on a non-zero exit or after
 * `timeoutMs`, which stays under the tests' timeouts so that a hanging client fails with its output.
 */
export const runScript = (
  script: string,
  bootstrap: string,
  command: string,
  params: unknown = {},
  stdin = "",
  timeoutMs = 25_000
): Promise<Run> =>
  new Promise((resolvePromise, reject) => {
    const args = [join(scripts, script), bootstrap, command, JSON.stringify(params)]
    const child = spawn(PYTHON, args, { stdio: ["pipe", "pipe", "pipe"] })
    running.add(child)
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (err += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("error", (e) => {
      clearTimeout(timer)
      running.delete(child)
      reject(e)
    })
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      running.delete(child)
      if (code !== 0) {
        return reject(new Error(`${script} ${command} exited with ${code ?? signal}:\n${err}\n${out}`))
      }
      const lines = out.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l))
      const last = lines.pop()
      if (last?.apis === undefined) return reject(new Error(`${script} ${command}: no apis line:\n${out}`))
      resolvePromise({ lines, apis: last.apis })
    })
    child.stdin.on("error", () => {}) // the script may exit before reading everything
    child.stdin.end(stdin)
  })

/** A record to produce; `repeat`/`length` make a long value without sending it through JSON twice. */
export interface RecordSpec {
  readonly key: string | null
  readonly value?: string | null
  readonly repeat?: string
  readonly length?: number
  readonly headers?: ReadonlyArray<readonly [string, string | null]>
  /** Default: the client's partitioner picks. */
  readonly partition?: number
}

/** A record as the scripts print it (consumed) or as it must be (expected). */
export interface Shown {
  readonly key: string | null
  readonly value: string | null
  readonly headers: ReadonlyArray<readonly [string, string | null]>
}

export interface Consumed extends Shown {
  readonly partition: number
  readonly offset: number
}

/** As the scripts print bytes: text, or "sha256:<hex>:<length>" beyond 256 bytes; null stays null. */
export const show = (text: string | null): string | null => {
  if (text === null) return null
  const bytes = Buffer.from(text, "utf8")
  return bytes.length > 256 ? `sha256:${createHash("sha256").update(bytes).digest("hex")}:${bytes.length}` : text
}

const valueOf = (r: RecordSpec): string | null =>
  r.repeat !== undefined ? r.repeat.repeat(Math.ceil(r.length! / r.repeat.length) + 1).slice(0, r.length) : r.value ?? null

export const expected = (r: RecordSpec): Shown => ({
  key: show(r.key),
  value: show(valueOf(r)),
  headers: (r.headers ?? []).map(([k, v]) => [k, show(v)] as const)
})

/**
 * One of everything worth checking: keyed records, null keys, headers (a repeated key, an empty value and,
 * where the client allows it, a null value), a tombstone (null value) and a 1 MiB value.
 */
export const recordSet = (tag: string, options: { readonly nullHeaderValue: boolean }): Array<RecordSpec> => [
  ...Array.from({ length: 12 }, (_, i) => ({ key: `${tag}-key-${i}`, value: `${tag} value ${i}` })),
  ...Array.from({ length: 6 }, (_, i) => ({ key: null, value: `${tag} no key ${i}` })),
  ...Array.from({ length: 4 }, (_, i) => ({
    key: `${tag}-headers-${i}`,
    value: `${tag} with headers ${i}`,
    headers: [
      ["trace", `${tag}-${i}`],
      ["dup", "first"],
      ["dup", "second"],
      ["empty", ""],
      ...(options.nullHeaderValue ? [["none", null] as const] : [])
    ] as const
  })),
  { key: `${tag}-tombstone`, value: null },
  { key: `${tag}-big`, repeat: `${tag} 1 MiB `, length: 1024 * 1024 }
]

/** Produced: for each record sent (by index), where the broker put it. */
export interface Placement {
  readonly index: number
  readonly partition: number
  readonly offset: number
}

/**
 * Checks that `consumed` is exactly the produced records: each at the partition and offset its producer was
 * told, with its key, value and headers, none missing, none extra, and every partition's offsets contiguous
 * from 0.
 */
export const compare = (
  produced: ReadonlyArray<{ readonly records: ReadonlyArray<RecordSpec>; readonly placements: ReadonlyArray<Placement> }>,
  consumed: ReadonlyArray<Consumed>
): { readonly want: Array<Consumed>; readonly got: Array<Consumed> } => {
  const want = produced.flatMap(({ records, placements }) =>
    placements.map((p) => ({ partition: p.partition, offset: p.offset, ...expected(records[p.index]!) }))
  )
  const order = (a: Consumed, b: Consumed) => a.partition - b.partition || a.offset - b.offset
  const norm = (c: Consumed): Consumed => ({
    partition: c.partition,
    offset: c.offset,
    key: c.key,
    value: c.value,
    headers: c.headers.map(([k, v]) => [k, v] as const)
  })
  return { want: want.map(norm).sort(order), got: consumed.map(norm).sort(order) }
}

/** The batch headers of every segment of one partition in a log dir. */
export const batchesOnDisk = (logDir: string, topic: string, partition: number): Array<BatchHeader> => {
  const dir = join(logDir, `${topic}-${partition}`)
  const headers: Array<BatchHeader> = []
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".log")).sort()) {
    const { problem } = scanBatches(new Uint8Array(readFileSync(join(dir, file))), (h) => void headers.push(h))
    if (problem !== undefined) throw new Error(`${dir}/${file}: ${problem.kind}: ${problem.detail}`)
  }
  return headers
}

/** Per partition, the offsets seen, in order; a fresh topic's should be 0, 1, 2, ... */
export const offsetsByPartition = (consumed: ReadonlyArray<Consumed>): Record<number, Array<number>> => {
  const by: Record<number, Array<number>> = {}
  for (const c of consumed) (by[c.partition] ??= []).push(c.offset)
  for (const offsets of Object.values(by)) offsets.sort((a, b) => a - b)
  return by
}

export const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)
