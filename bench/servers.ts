// Starts the servers under test as child processes, each in its own process group: the real broker through its
// launcher (`your_program.sh <config>`, which execs node on the bundle dist/broker/Main.js when it is newer than
// every source, else on src/Main.ts, with V8's compile cache) or directly as `node src/Main.ts <config>`; and the
// reference server (bench/reference-server.ts). Both print `listening on <host>:<port>`; both stop on SIGTERM.
import { execSync, spawn, type ChildProcess } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { performance } from "node:perf_hooks"

export const root = resolve(import.meta.dirname, "..")
export const nodeBinary = join(root, "node_modules/.bin/node")
const compileCache = join(root, "node_modules/.cache/node-compile")

export interface ServerProcess {
  readonly kind: "broker" | "reference"
  readonly pid: number
  readonly port: number
  /** Milliseconds from spawn to the `listening on` line. */
  readonly listeningMs: number
  /** Wall-clock `performance.now()` at spawn. */
  readonly spawnedAt: number
  readonly output: () => string
  /** Resident set size in bytes now (VmRSS), or undefined once the process is gone. */
  readonly rss: () => number | undefined
  /** CPU seconds used so far (user and system, all threads), or undefined once the process is gone. */
  readonly cpu: () => number | undefined
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves with the exit code once it has exited. */
  readonly stop: (graceMs?: number) => Promise<number | null>
}

export const readRss = (pid: number): number | undefined => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return m === null ? undefined : Number(m[1]) * 1024
  } catch {
    return undefined
  }
}

const clockTicks = (() => {
  try {
    return Number(execSync("getconf CLK_TCK", { stdio: ["ignore", "pipe", "ignore"] }).toString().trim()) || 100
  } catch {
    return 100
  }
})()

/** CPU seconds a process has used (utime + stime of /proc/<pid>/stat). */
export const readCpu = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) / clockTicks
  } catch {
    return undefined
  }
}

/** Process groups of servers still running: killed if this process exits first (an error, Ctrl-C). */
const live = new Set<number>()
process.on("exit", () => {
  for (const pid of live) {
    try {
      process.kill(-pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
})

export const spawnServer = async (
  kind: ServerProcess["kind"],
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly timeoutMs?: number; readonly env?: Readonly<Record<string, string>> } = {}
): Promise<ServerProcess> => {
  const spawnedAt = performance.now()
  const child: ChildProcess = spawn(command, args, {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_COMPILE_CACHE: process.env["NODE_COMPILE_CACHE"] ?? compileCache, ...options.env }
  })
  let output = ""
  live.add(child.pid!)
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      live.delete(child.pid!)
      r(code)
    })
  )
  const port = await new Promise<number>((resolvePort, reject) => {
    const timeoutMs = options.timeoutMs ?? 30_000
    const timer = setTimeout(() => {
      process.kill(-child.pid!, "SIGKILL")
      reject(new Error(`${kind} did not start within ${timeoutMs / 1000} s:\n${output.slice(-2000)}`))
    }, timeoutMs)
    const check = (d: Buffer) => {
      output += d
      const m = /listening on [^ ]*:(\d+) \(/.exec(output)
      if (m !== null) {
        clearTimeout(timer)
        resolvePort(Number(m[1]))
      }
    }
    child.stdout!.on("data", check)
    child.stderr!.on("data", check)
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`${kind} exited with ${code} before listening:\n${output.slice(-2000)}`))
    })
  })
  const listeningMs = performance.now() - spawnedAt
  const pid = child.pid!
  const stop = async (graceMs = 30_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    process.kill(-pid, "SIGTERM")
    const killer = setTimeout(() => {
      try {
        process.kill(-pid, "SIGKILL")
      } catch {
        // already gone
      }
    }, graceMs)
    const code = await exited
    clearTimeout(killer)
    return code
  }
  return { kind, pid, port, listeningMs, spawnedAt, output: () => output, rss: () => readRss(pid), cpu: () => readCpu(pid), stop }
}

/** Writes `<dir>/server.properties` for a broker keeping its logs in `logDir`; returns its path. */
export const writeBrokerConfig = (dir: string, logDir: string, extra: Readonly<Record<string, string>> = {}): string => {
  const properties: Record<string, string> = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "listeners": "PLAINTEXT://127.0.0.1:0",
    "log.dirs": logDir,
    "num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
    ...extra
  }
  const path = join(dir, "server.properties")
  writeFileSync(path, Object.entries(properties).map(([k, v]) => `${k}=${v}`).join("\n") + "\n")
  return path
}

export type BrokerEntry = "launcher" | "sources"

/** What `your_program.sh` runs now: the bundle while no source file is newer than it, else the sources. */
export const launcherEntry = (): string => {
  const bundle = join(root, "dist/broker/Main.js")
  if (!existsSync(bundle)) return "src/Main.ts (no bundle)"
  const newer = execSync(`find src -newer dist/broker/Main.js -print -quit`, { cwd: root }).toString().trim()
  return newer === "" ? "dist/broker/Main.js (bundle)" : `src/Main.ts (${newer} is newer than the bundle)`
}

/** Node flags go through NODE_OPTIONS with the launcher (e.g. --cpu-prof, allowed there). */
export const startBroker = (
  configPath: string,
  options: { readonly nodeArgs?: ReadonlyArray<string>; readonly timeoutMs?: number; readonly entry?: BrokerEntry } = {}
) => {
  const nodeArgs = options.nodeArgs ?? []
  if (options.entry === "sources") {
    return spawnServer("broker", nodeBinary, [...nodeArgs, join(root, "src/Main.ts"), configPath], { timeoutMs: options.timeoutMs })
  }
  const env = nodeArgs.length === 0 ? undefined : { NODE_OPTIONS: [process.env["NODE_OPTIONS"] ?? "", ...nodeArgs].join(" ").trim() }
  return spawnServer("broker", join(root, "your_program.sh"), [configPath], { timeoutMs: options.timeoutMs, env })
}

export const startReference = (dir: string, options: { readonly nodeArgs?: ReadonlyArray<string>; readonly io?: string } = {}) =>
  spawnServer("reference", nodeBinary, [
    ...(options.nodeArgs ?? []),
    join(root, "bench/reference-server.ts"),
    "--dir",
    dir,
    ...(options.io === undefined ? [] : ["--io", options.io])
  ])

/** Samples a process's RSS every `everyMs`; `stop()` returns the largest seen (bytes). */
export const sampleRss = (rss: () => number | undefined, everyMs = 1000, onSample?: (bytes: number) => void) => {
  let max = 0
  const take = () => {
    const v = rss()
    if (v !== undefined) {
      if (v > max) max = v
      onSample?.(v)
    }
  }
  take()
  const timer = setInterval(take, everyMs)
  return {
    max: () => max,
    stop: () => {
      take()
      clearInterval(timer)
      return max
    }
  }
}
