// `--add-scram` of the format subcommand, as `kafka-storage format` takes it:
// `SCRAM-SHA-256=[name=bob,password=bob-secret]` (also `iterations=8192`; values may be double-quoted).
import { MAX_ITERATIONS, MIN_ITERATIONS, type ScramMechanism, SCRAM_MECHANISMS } from "./Scram.ts"

export interface AddScram {
  readonly mechanism: ScramMechanism
  readonly name: string
  readonly password: string
  readonly iterations: number
}

export const parseAddScram = (spec: string): AddScram | string => {
  const m = /^([A-Z0-9-]+)=\[(.*)\]$/s.exec(spec.trim())
  if (m === null) return `--add-scram: expected MECHANISM=[name=...,password=...], got something else`
  const mechanism = m[1] as ScramMechanism
  if (!SCRAM_MECHANISMS.includes(mechanism)) return `--add-scram: unknown mechanism ${m[1]} (SCRAM-SHA-256 or SCRAM-SHA-512)`
  const fields = new Map<string, string>()
  const re = /\s*([a-zA-Z]+)=("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)/gy
  let f: RegExpExecArray | null
  while (re.lastIndex < m[2]!.length && (f = re.exec(m[2]!)) !== null) {
    const raw = f[2]!
    fields.set(f[1]!.toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw)
  }
  const name = fields.get("name")
  const password = fields.get("password")
  if (name === undefined || name === "") return "--add-scram: name is required"
  if (password === undefined) return `--add-scram: password is required for ${name}`
  const iterations = Number(fields.get("iterations") ?? MIN_ITERATIONS)
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    return `--add-scram: iterations must be between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`
  }
  return { mechanism, name, password, iterations }
}
