// Summarises a V8 CPU profile (`node --cpu-prof`): self time per function and per source file or package,
// as a few compact lines. Also usable by hand: node bench/profile.ts <file.cpuprofile> [top]
import { readFileSync, realpathSync } from "node:fs"
import { relative } from "node:path"
import { root } from "./servers.ts"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const where = (url: string): string => {
  if (url === "") return ""
  const path = url.replace(/^file:\/\//, "")
  if (path.startsWith("node:")) return path
  const nm = path.lastIndexOf("/node_modules/")
  if (nm >= 0) {
    const rest = path.slice(nm + "/node_modules/".length).split("/")
    const pkg = rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!
    const file = rest.slice(rest[0]!.startsWith("@") ? 2 : 1).join("/")
    return `${pkg}:${file.replace(/^(dist\/(esm|cjs)\/|src\/)/, "")}`
  }
  return relative(root, path)
}

/** The package or top-level folder a source belongs to, for the per-area totals. */
const area = (url: string): string => {
  const w = where(url)
  if (w === "") return "(native / V8)"
  if (w.startsWith("node:")) return "node internals"
  if (!w.includes(":")) return w.split("/").slice(0, 2).join("/")
  return w.split(":")[0]!
}

export const summarizeProfile = (path: string, top = 15): Array<string> => {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile
  const byId = new Map<number, ProfileNode>()
  for (const n of profile.nodes) byId.set(n.id, n)
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  let total = 0
  let idle = 0
  const byFunction = new Map<string, number>()
  const byArea = new Map<string, number>()
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame
    if (f.functionName === "(idle)") {
      idle += us
      continue
    }
    total += us
    const name = f.functionName === "" ? "(anonymous)" : f.functionName
    const loc = where(f.url)
    const key = loc === "" ? name : `${name} ${loc}:${f.lineNumber + 1}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + us)
    const a = name.startsWith("(") && loc === "" ? name : area(f.url)
    byArea.set(a, (byArea.get(a) ?? 0) + us)
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`
  const lines = [`busy ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s; self time by area:`]
  const areas = [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 8)
  lines.push("  " + areas.map(([k, us]) => `${k} ${((100 * us) / total).toFixed(0)}%`).join(", "))
  lines.push(`top ${top} functions by self time:`)
  for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${k}`)
  return lines
}

if (process.argv[1] !== undefined && import.meta.filename === realpathSync(process.argv[1])) {
  const file = process.argv[2]
  if (file === undefined) throw new Error("usage: node bench/profile.ts <file.cpuprofile> [top]")
  for (const line of summarizeProfile(file, Number(process.argv[3] ?? 15))) console.log(line)
}
