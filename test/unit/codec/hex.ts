// Byte-array helpers for the codec tests. `hex("00 01", "ff*8")` reads space-separated hex bytes; a token
// `NN*k` repeats byte NN k times (handy for int64 -1 and zero UUIDs).

export const hex = (...parts: ReadonlyArray<string>): Uint8Array => {
  const out: Array<number> = []
  for (const token of parts.join(" ").split(/\s+/)) {
    if (token === "") continue
    const match = /^([0-9a-fA-F]{2})(?:\*(\d+))?$/.exec(token)
    if (match === null) throw new Error(`not a hex byte: ${token}`)
    const byte = parseInt(match[1]!, 16)
    const times = match[2] === undefined ? 1 : Number(match[2])
    for (let i = 0; i < times; i++) out.push(byte)
  }
  return Uint8Array.from(out)
}

/** Bytes as "00 01 ff", so that a failed comparison shows a readable diff. */
export const show = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ")
