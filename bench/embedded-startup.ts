// Start-up of the embedded broker: `startBroker()` (memory storage, a free port) until its promise resolves, the
// first call in the process and then N start+close cycles (median and p95 of each half). The target: under
// 100 ms per start after the first.
// Run: npm run bench:embedded [-- cycles] (or node_modules/.bin/node bench/embedded-startup.ts [cycles]);
// BENCH_CONSOLE=1 starts each broker with its console as well. It loads the built package (dist/index.js, what an
// installed package runs) when there is one, else the sources; BENCH_SOURCES=1 loads the sources.
import { existsSync } from "node:fs"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { pathToFileURL } from "node:url"

const cycles = Number(process.argv[2] ?? 20)
const withConsole = process.env["BENCH_CONSOLE"] === "1"
const built = join(import.meta.dirname, "../dist/index.js")
const entry = existsSync(built) && process.env["BENCH_SOURCES"] !== "1" ? built : join(import.meta.dirname, "../src/index.ts")

const importStart = performance.now()
const { startBroker } = await import(pathToFileURL(entry).href) as typeof import("../src/index.ts")
const importMs = performance.now() - importStart

const quantile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
const ms = (n: number) => `${n.toFixed(1)} ms`

const cycle = async () => {
  const t0 = performance.now()
  const broker = await startBroker({ console: withConsole })
  const t1 = performance.now()
  await broker.close()
  return { start: t1 - t0, close: performance.now() - t1 }
}

const first = await cycle()
const starts: Array<number> = []
const closes: Array<number> = []
for (let i = 0; i < cycles; i++) {
  const { start, close } = await cycle()
  starts.push(start)
  closes.push(close)
}
starts.sort((a, b) => a - b)
closes.sort((a, b) => a - b)

console.log(`embedded startBroker() (memory storage${withConsole ? ", console on" : ""}), Node ${process.versions.node}`)
console.log(`  import of ${entry.endsWith(".js") ? "dist/index.js" : "src/index.ts"}: ${ms(importMs)}`)
console.log(`  first start:             ${ms(first.start)} (close ${ms(first.close)})`)
console.log(`  next ${cycles} starts:          median ${ms(quantile(starts, 0.5))}, p95 ${ms(quantile(starts, 0.95))}, max ${ms(starts[starts.length - 1]!)}`)
console.log(`  next ${cycles} closes:          median ${ms(quantile(closes, 0.5))}, p95 ${ms(quantile(closes, 0.95))}`)
const target = 100
console.log(quantile(starts, 0.95) < target
  ? `  p95 start under ${target} ms: yes`
  : `  p95 start under ${target} ms: NO (${ms(quantile(starts, 0.95))})`)
