// How the console shows bytes: pretty JSON when they parse as JSON, text when they are UTF-8, hex otherwise.
// And Kafka's default partitioner for keyed records (murmur2 of the key), so a message produced from the console
// lands where a Java or librdkafka producer would put the same key.
import type { Rendered } from "./Views.ts"

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** At most this many bytes are rendered (the size tells the rest). */
export const MAX_RENDERED = 64 * 1024

const hex = (bytes: Uint8Array) => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += (i > 0 && i % 16 === 0 ? "\n" : i > 0 ? " " : "") + bytes[i]!.toString(16).padStart(2, "0")
  return out
}

export const render = (bytes: Uint8Array | null): Rendered | null => {
  if (bytes === null) return null
  const shown = bytes.length > MAX_RENDERED ? bytes.subarray(0, MAX_RENDERED) : bytes
  let text: string
  try {
    text = utf8.decode(shown)
  } catch {
    return { kind: "hex", text: hex(shown), size: bytes.length }
  }
  // Control characters other than tab and newlines make it binary that happens to be valid UTF-8.
  if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) return { kind: "hex", text: hex(shown), size: bytes.length }
  const trimmed = text.trim()
  if (trimmed.length > 0 && shown === bytes && /^[[{"]/.test(trimmed)) {
    try {
      return { kind: "json", text: JSON.stringify(JSON.parse(trimmed), null, 2), size: bytes.length }
    } catch {
      // not JSON: text
    }
  }
  return { kind: "text", text, size: bytes.length }
}

/** Kafka's murmur2 (Utils.murmur2), as its default partitioner hashes keys. */
export const murmur2 = (data: Uint8Array): number => {
  const m = 0x5bd1e995
  const length = data.length
  let h = (0x9747b28c ^ length) | 0
  const blocks = length >> 2
  for (let i = 0; i < blocks; i++) {
    const o = i * 4
    let k = (data[o]! & 0xff) | ((data[o + 1]! & 0xff) << 8) | ((data[o + 2]! & 0xff) << 16) | ((data[o + 3]! & 0xff) << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  const rest = length & 3
  const tail = blocks * 4
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8
  if (rest >= 1) {
    h ^= data[tail]! & 0xff
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** The partition Kafka's default partitioner gives a key. */
export const partitionForKey = (key: Uint8Array, partitions: number): number => (murmur2(key) & 0x7fffffff) % partitions
