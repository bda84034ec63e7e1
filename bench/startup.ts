// Start-up time: from spawning `your_program.sh` to the first answered ApiVersions request, over several runs.
// Run: node_modules/.bin/node bench/startup.ts [runs]
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { ApiVersions } from "../src/protocol/messages/ApiVersions.ts"
import { RawClient } from "../src/client/RawClient.ts"

const runs = Number(process.argv[2] ?? 10)
const script = resolve(import.meta.dirname, "../your_program.sh")
const dir = mkdtempSync(join(tmpdir(), "bench-startup-"))
const config = join(dir, "server.properties")
writeFileSync(config, `node.id=1\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs=${join(dir, "data")}\n`)

const once = async (): Promise<{ listening: number; answered: number }> => {
  const start = performance.now()
  const child = spawn(script, [config], { detached: true, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  const port = await new Promise<number>((ok) => {
    const check = (d: Buffer) => {
      output += d
      const m = /listening on [^ ]*:(\d+) /.exec(output)
      if (m !== null) ok(Number(m[1]))
    }
    child.stdout.on("data", check)
    child.stderr.on("data", check)
  })
  const listening = performance.now() - start
  const client = await RawClient.connect(port)
  await client.request(ApiVersions, 3, { clientSoftwareName: "bench", clientSoftwareVersion: "1" })
  const answered = performance.now() - start
  client.close()
  const exited = new Promise((r) => child.once("exit", r))
  process.kill(-child.pid!, "SIGTERM")
  await exited
  return { listening, answered }
}

await once() // warms the compile cache, as any second start would be
const results: Array<{ listening: number; answered: number }> = []
for (let i = 0; i < runs; i++) results.push(await once())
const stat = (xs: Array<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return `min ${s[0]!.toFixed(0)} ms, median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms, max ${s[s.length - 1]!.toFixed(0)} ms`
}
console.log(`start-up over ${runs} runs (empty log dir)`)
console.log(`  listening:            ${stat(results.map((r) => r.listening))}`)
console.log(`  first ApiVersions:    ${stat(results.map((r) => r.answered))}`)
