// The launcher as a user runs it: the bundled config from another working directory, --help, and a bad
// configuration that must stop start-up with one line naming the key.
import { assert, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { makeLogDir } from "../support/BrokerProcess.ts"
import { RawClient } from "../../src/client/RawClient.ts"
import { ApiVersions } from "../../src/protocol/messages/ApiVersions.ts"

const script = resolve(import.meta.dirname, "../../your_program.sh")

describe("your_program.sh", () => {
  it("starts with the bundled config from any directory and answers ApiVersions", async () => {
    const logDir = makeLogDir()
    // The bundled config listens on 9092 (its console on 8080); tests must not assume they are free, so the ports
    // come from the environment.
    const child = spawn(script, [], {
      cwd: tmpdir(),
      detached: true,
      env: { ...process.env, KAFKA_LISTENERS: "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0", KAFKA_CONSOLE_LISTENER: "http://127.0.0.1:0", KAFKA_LOG_DIRS: logDir },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (d) => (output += d))
    child.stderr.on("data", (d) => (output += d))
    try {
      const port = await new Promise<number>((resolvePort, reject) => {
        const timer = setTimeout(() => reject(new Error(`not listening after 15 s:\n${output}`)), 15_000)
        const check = () => {
          const m = /listening on 127\.0\.0\.1:(\d+) \(PLAINTEXT\)/.exec(output)
          if (m !== null) {
            clearTimeout(timer)
            resolvePort(Number(m[1]))
          }
        }
        child.stdout.on("data", check)
        child.stderr.on("data", check)
      })
      const client = await RawClient.connect(port)
      const response = await client.request(ApiVersions, 3, { clientSoftwareName: "launch", clientSoftwareVersion: "1" })
      assert.strictEqual(response.errorCode, 0)
      client.close()
      assert.include(output, `${logDir}/meta.properties`)
      // The bundled config serves the console.
      const consoleUrl = /console listening on (http:\/\/[^\s"]+)/.exec(output)?.[1]
      assert.isDefined(consoleUrl, output)
      const overview = await (await fetch(`${consoleUrl}/api/overview`)).json() as { brokers: ReadonlyArray<{ port: number }> }
      assert.strictEqual(overview.brokers[0]!.port, port)
    } finally {
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
      process.kill(-child.pid!, "SIGTERM")
      assert.strictEqual(await exited, 0, "a SIGTERM shutdown exits 0")
    }
  })

  it("prints its usage with --help", () => {
    const result = spawnSync(script, ["--help"], { encoding: "utf8" })
    assert.strictEqual(result.status, 0)
    assert.match(result.stdout, /Usage: your_program\.sh \[server\.properties\]/)
  })

  it("refuses a bad value with one line naming the key", () => {
    const config = join(makeLogDir(), "bad.properties")
    writeFileSync(config, "node.id=1\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs=data\nsocket.request.max.bytes=lots\n")
    const result = spawnSync(script, [config], { encoding: "utf8", timeout: 15_000 })
    assert.strictEqual(result.status, 1)
    const lines = result.stderr.trim().split("\n")
    assert.strictEqual(lines.length, 1, result.stderr)
    assert.match(lines[0]!, /^cannot start the broker: .*socket\.request\.max\.bytes/)
  })
})
