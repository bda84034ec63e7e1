// kcat (librdkafka's command-line client, Debian package `kcat`) for end-to-end tests.
import { spawn } from "node:child_process"
import { runs } from "./Installed.ts"

export const kcatInstalled = runs("kcat", ["-V"])

/** Runs kcat with `input` on stdin; resolves with stdout, rejects with stderr on a non-zero exit or after `timeoutMs`. */
export const kcat = (args: ReadonlyArray<string>, input = "", timeoutMs = 60_000): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn("kcat", args, { stdio: ["pipe", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (err += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("exit", (code) => {
      clearTimeout(timer)
      code === 0 ? resolve(out) : reject(new Error(`kcat ${args.join(" ")} exited with ${code}:\n${err}`))
    })
    child.stdin.end(input)
  })

/** What `kcat -L -J` prints: the brokers, and each topic's partitions with their leader, replicas and ISR. */
export interface Listing {
  readonly brokers: Array<{ id: number; name: string }>
  readonly topics: Array<{
    topic: string
    partitions: Array<{ partition: number; leader: number; replicas: Array<{ id: number }>; isrs: Array<{ id: number }> }>
  }>
}

/** `kcat -L` through the broker at `port`: the brokers, and the topic when one is named (which creates it when auto-creation is on). */
export const listCluster = async (port: number, topic?: string): Promise<Listing> =>
  JSON.parse(await kcat(["-b", `127.0.0.1:${port}`, "-L", "-J", ...(topic === undefined ? [] : ["-t", topic])])) as Listing

/** The leaders of the listing's first topic, by partition. */
export const leadersOf = (l: Listing): Array<number> =>
  l.topics[0]?.partitions.slice().sort((a, b) => a.partition - b.partition).map((p) => p.leader) ?? []
