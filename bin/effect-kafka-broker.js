#!/usr/bin/env node
// `npx effect-kafka-broker [server.properties]`: the installed package's launcher, as your_program.sh is the
// repository's. It runs the bundled broker (dist/broker/Main.js) on the Node that runs it (24 or later), with no
// argument on the bundled config and its data in kafka-data/ under the working directory (KAFKA_LOG_DIRS
// overrides that). The broker runs as a child process because the memory settings below must be in its
// environment before it starts; signals are passed on and its exit status is this one's.
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const major = Number(process.versions.node.split(".")[0])
if (major < 24) {
  console.error(`effect-kafka-broker needs Node 24 or later; this is Node ${process.versions.node} (${process.execPath})`)
  process.exit(1)
}

const root = join(import.meta.dirname, "..")
const entry = join(root, "dist/broker/Main.js")
const args = process.argv.slice(2)
const env = { ...process.env, KAFKA_BROKER_COMMAND: "npx effect-kafka-broker" }

if (args.length === 0) {
  args.push(join(root, "config/server.properties"))
  env.KAFKA_LOG_DIRS ??= resolve("kafka-data")
} else if (!args[0].startsWith("-") && existsSync(args[0])) {
  args[0] = resolve(args[0])
}

// As your_program.sh (see there): V8's compiled code kept between runs, and a small young generation with glibc
// returning freed socket buffers at once, which keeps the broker's RSS at half of Node's defaults under load.
env.NODE_COMPILE_CACHE ??= join(tmpdir(), "node-compile-cache")
env.MALLOC_MMAP_THRESHOLD_ ??= "65536"
env.MALLOC_ARENA_MAX ??= "2"
env.NODE_OPTIONS = `--max-semi-space-size=1${env.NODE_OPTIONS ? ` ${env.NODE_OPTIONS}` : ""}`

const child = spawn(process.execPath, [entry, ...args], { stdio: "inherit", env })
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal))
}
child.on("exit", (code, signal) => {
  if (signal !== null) {
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
  } else {
    process.exit(code ?? 1)
  }
})
