// The house rules, checked on every import of every source file: `protocol` is Kafka's formats and imports
// nothing else of ours; `services` import `protocol` and each other (tags and pure cores), never `layers` and
// never Node itself; `layers` implement services; the raw client speaks the protocol with the broker's framer;
// nothing in `src` imports `test` or `bench`, and `bench` imports nothing from `test`.
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"

const root = resolve(import.meta.dirname, "../..")

const sources = (dir: string): Array<string> =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []
  )

interface Import {
  readonly from: string
  /** A path relative to the repository for our own modules, else the package or builtin name. */
  readonly to: string
  readonly ours: boolean
}

const importsOf = (file: string): Array<Import> => {
  const text = readFileSync(join(root, file), "utf8")
  const out: Array<Import> = []
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^"';]*?from\s+"([^"]+)"|import\("([^"]+)"\)/g)) {
    const spec = m[1] ?? m[2]!
    const ours = spec.startsWith(".")
    out.push({ from: file, to: ours ? relative(root, resolve(root, dirname(file), spec)) : spec, ours })
  }
  return out
}

const all = ["src", "test", "bench"].flatMap(sources).flatMap(importsOf)
const under = (prefix: string) => (i: Import) => i.from.startsWith(`${prefix}/`)
const broken = (imports: ReadonlyArray<Import>, allowed: (i: Import) => boolean) =>
  imports.filter((i) => !allowed(i)).map((i) => `${i.from} imports ${i.to}`)

describe("the house", () => {
  it("protocol imports nothing else of ours", () => {
    assert.deepStrictEqual(broken(all.filter(under("src/protocol")), (i) => !i.ours || i.to.startsWith("src/protocol/")), [])
  })

  it("services import protocol and services, never layers, and never Node", () => {
    assert.deepStrictEqual(
      broken(all.filter(under("src/services")), (i) =>
        i.ours ? i.to.startsWith("src/protocol/") || i.to.startsWith("src/services/") : !i.to.startsWith("node:") && !i.to.startsWith("@effect/platform-node")),
      []
    )
  })

  it("layers import services, protocol and layers", () => {
    assert.deepStrictEqual(
      broken(all.filter(under("src/layers")), (i) => !i.ours || ["src/protocol/", "src/services/", "src/layers/"].some((p) => i.to.startsWith(p))),
      []
    )
  })

  it("the raw client imports protocol and the framer only", () => {
    assert.deepStrictEqual(
      broken(all.filter(under("src/client")), (i) => !i.ours || i.to.startsWith("src/protocol/") || i.to === "src/services/network/Framer.ts"),
      []
    )
  })

  it("nothing in src imports test or bench; bench imports nothing from test", () => {
    assert.deepStrictEqual(broken(all.filter(under("src")), (i) => !i.ours || i.to.startsWith("src/")), [])
    assert.deepStrictEqual(broken(all.filter(under("bench")), (i) => !i.ours || !i.to.startsWith("test/")), [])
  })

  it("every import of ours names a file that exists", () => {
    // The rules above looked at every import there is.
    assert.isAbove(all.filter((i) => i.ours).length, 400)
    const files = new Set(["src", "test", "bench"].flatMap(sources))
    assert.deepStrictEqual(all.filter((i) => i.ours && i.to.endsWith(".ts") && !files.has(i.to)).map((i) => `${i.from} imports ${i.to}`), [])
  })
})
