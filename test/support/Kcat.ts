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
