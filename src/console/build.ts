// Builds the web console into dist/console/: rolldown bundles main.ts (with uPlot) into main.js; index.html is
// copied; styles.css is uPlot's stylesheet followed by ours; favicon.ico is drawn here as a 32×32 PNG inside an ICO
// (no image tool needed, and the browser asks for /favicon.ico by itself). Run: node src/console/build.ts
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join, resolve } from "node:path"
import { crc32, deflateSync } from "node:zlib"
import { build } from "rolldown"

const here = import.meta.dirname
const root = resolve(here, "../..")
const out = join(root, "dist/console")

/** A 32×32 RGBA PNG: a rounded square in the console's accent colour with three log segments drawn in white. */
export const faviconPng = (): Uint8Array => {
  const size = 32
  const raw = Buffer.alloc(size * (size * 4 + 1))
  const inRounded = (x: number, y: number) => {
    const r = 7
    const cx = x < r ? r : x > size - 1 - r ? size - 1 - r : x
    const cy = y < r ? r : y > size - 1 - r ? size - 1 - r : y
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
  }
  // Three bars of decreasing length: a log growing at its tail.
  const bars = [[7, 9, 24], [14, 9, 20], [21, 9, 15]] as const
  for (let y = 0; y < size; y++) {
    const row = y * (size * 4 + 1)
    raw[row] = 0
    for (let x = 0; x < size; x++) {
      const p = row + 1 + x * 4
      const bar = bars.some(([top, from, to]) => y >= top && y < top + 4 && x >= from && x <= to)
      const [r, g, b, a] = !inRounded(x, y) ? [0, 0, 0, 0] : bar ? [255, 255, 255, 255] : [37, 99, 235, 255]
      raw[p] = r
      raw[p + 1] = g
      raw[p + 2] = b
      raw[p + 3] = a
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type, "latin1"), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header.set([8, 6, 0, 0, 0], 8) // 8 bits per channel, RGBA, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0))
  ])
}

/** An ICO file holding one PNG image (Windows Vista's PNG-in-ICO, read by every browser). */
export const ico = (png: Uint8Array, size: number): Uint8Array => {
  const head = Buffer.alloc(6 + 16)
  head.writeUInt16LE(0, 0) // reserved
  head.writeUInt16LE(1, 2) // type: icon
  head.writeUInt16LE(1, 4) // one image
  head.writeUInt8(size % 256, 6)
  head.writeUInt8(size % 256, 7)
  head.writeUInt8(0, 8) // no palette
  head.writeUInt8(0, 9)
  head.writeUInt16LE(1, 10) // colour planes
  head.writeUInt16LE(32, 12) // bits per pixel
  head.writeUInt32LE(png.length, 14)
  head.writeUInt32LE(head.length, 18)
  return Buffer.concat([head, png])
}

export const buildConsole = async (): Promise<void> => {
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  await build({
    input: join(here, "main.ts"),
    platform: "browser",
    tsconfig: join(here, "tsconfig.json"),
    output: { dir: out, format: "esm", entryFileNames: "main.js", minify: true },
    logLevel: "warn"
  })
  const require = createRequire(import.meta.url)
  const uplotCss = readFileSync(join(require.resolve("uplot/package.json"), "../dist/uPlot.min.css"), "utf8")
  writeFileSync(join(out, "styles.css"), `${uplotCss}\n${readFileSync(join(here, "styles.css"), "utf8")}`)
  writeFileSync(join(out, "index.html"), readFileSync(join(here, "index.html")))
  writeFileSync(join(out, "favicon.ico"), ico(faviconPng(), 32))
}

if (import.meta.main) await buildConsole()
