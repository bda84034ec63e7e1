// BrokerConfig from a `server.properties` file in Apache Kafka's format. Environment variables named as in
// Kafka's container images override the file: KAFKA_LOG_DIRS sets `log.dirs` (`_` → `.`, `__` → `_`,
// `___` → `-`). A relative `log.dirs` entry is taken relative to the file's folder, so a config works
// from any working directory.
import { ConfigProvider, Effect, FileSystem, Layer } from "effect"
import { dirname, resolve } from "node:path"
import { BrokerConfig, InvalidConfig } from "../../services/config/BrokerConfig.ts"

/** Parses Java properties text: `key=value`, `key: value` or `key value`, `#`/`!` comments, `\` continuations. */
export const parseProperties = (text: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const lines = text.split(/\r\n|\r|\n/)
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^\s+/, "")
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue
    // An odd number of trailing backslashes continues the logical line.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^\s+/, "")
    }
    const m = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)$/.exec(line)!
    out[unescape(m[1]!)] = unescape(m[2]!)
  }
  return out
}

const unescape = (s: string): string =>
  s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) =>
    c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : c === "t" ? "\t" : c === "n" ? "\n" : c === "r" ? "\r" : c === "f" ? "\f" : c
  )

/** `KAFKA_LOG_RETENTION_MS` → `log.retention.ms`, as Kafka's container images map them. */
export const environmentOverrides = (env: Readonly<Record<string, string | undefined>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("KAFKA_") || value === undefined) continue
    const key = name.slice(6).toLowerCase().replace(/___/g, "-").replace(/__/g, "\u0000").replace(/_/g, ".").replace(/\u0000/g, "_")
    out[key] = value
  }
  return out
}

/** Reads the file at `path`, applies environment overrides, and provides BrokerConfig. */
export const layer = (path: string, env: Readonly<Record<string, string | undefined>> = process.env) =>
  Layer.unwrap(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const text = yield* fs.readFileString(path).pipe(
        Effect.mapError((e) => new InvalidConfig({ message: `cannot read ${path}: ${e.message}` }))
      )
      const properties = { ...parseProperties(text), ...environmentOverrides(env) }
      // Kafka trims values before parsing them; a stray trailing space must not break a number.
      for (const key of Object.keys(properties)) properties[key] = properties[key]!.trim()
      for (const key of ["log.dirs", "log.dir"]) {
        const value = properties[key]
        if (value !== undefined) {
          properties[key] = value.split(",").map((d) => d.trim()).filter((d) => d !== "").map((d) => resolve(dirname(resolve(path)), d)).join(",")
        }
      }
      return BrokerConfig.layer.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(properties))))
    })
  )
