// Starts the real broker (`node src/Main.ts <config>`) as a child process in its own process group, on a
// free port chosen by the OS, and stops it by process group id. Topics can be written into the KRaft
// metadata log before start, as a Kafka cluster would have left them.
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, FileSystem } from "effect"
import { spawn, type ChildProcess } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import * as KRaftMetadata from "../../src/layers/metadata/KRaftMetadata.ts"
import { bootstrapRecords, topicRecords } from "../../src/protocol/MetadataRecords.ts"

const root = resolve(import.meta.dirname, "../..")
const node = join(root, "node_modules/.bin/node")

export interface BrokerProcess {
  readonly port: number
  readonly pid: number
  /** Whether the process is still running. */
  readonly alive: () => boolean
  readonly logDir: string
  readonly configPath: string
  /** Everything the broker printed so far. */
  readonly output: () => string
  readonly stop: () => Promise<number | null>
  /** A crash: SIGKILL, no clean shutdown. */
  readonly kill: () => Promise<void>
}

export const makeLogDir = (): string => mkdtempSync(join(tmpdir(), "broker-e2e-"))

/** Writes a metadata log naming these topics (name → partition count), led by node 1. */
export const writeTopics = (logDir: string, topics: Readonly<Record<string, number>>): Promise<void> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      yield* KRaftMetadata.writeMetadataLog(fs, logDir, [
        bootstrapRecords(),
        ...Object.entries(topics).map(([name, partitions]) => topicRecords(name, randomUUID(), partitions, 1))
      ])
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

export const startBroker = async (options: {
  readonly logDir?: string
  readonly properties?: Readonly<Record<string, string>>
} = {}): Promise<BrokerProcess> => {
  const logDir = options.logDir ?? makeLogDir()
  const configPath = join(logDir, "..", `server-${randomUUID()}.properties`)
  const properties: Record<string, string> = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": "1@localhost:9093",
    "controller.listener.names": "CONTROLLER",
    "listeners": "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:9093",
    "log.dirs": logDir,
    ...options.properties
  }
  writeFileSync(configPath, Object.entries(properties).map(([k, v]) => `${k}=${v}`).join("\n") + "\n")
  const child: ChildProcess = spawn(node, [join(root, "src/Main.ts"), configPath], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start within 15 s:\n${output}`)), 15_000)
    const check = () => {
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
      reject(new Error(`broker exited with ${code}:\n${output}`))
    })
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, "SIGTERM")
      const killer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 5_000)
      const code = await exited
      clearTimeout(killer)
      return code
    }
    return child.exitCode
  }
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, "SIGKILL")
      await exited
    }
  }
  const alive = () => child.exitCode === null && child.signalCode === null
  return { port, pid: child.pid!, alive, logDir, configPath, output: () => output, stop, kill }
}
