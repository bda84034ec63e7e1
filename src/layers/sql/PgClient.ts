// The PostgreSQL client every SQL layer uses: `@effect/sql-pg`'s pooled client (its own wire protocol, no
// driver of ours) over `storage.url`. It provides both `PgClient` (LISTEN/NOTIFY) and the generic `SqlClient`.
// The URL is kept Redacted: it may carry a password.
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { BrokerConfig, InvalidConfig } from "../../services/config/BrokerConfig.ts"
import { DatabaseUnavailable } from "../../services/Errors.ts"

/** host:port/database of a URL, without its user and password. */
export const whereOf = (url: string): string => {
  const u = new URL(url)
  return `${u.hostname}:${u.port === "" ? "5432" : u.port}/${decodeURIComponent(u.pathname.slice(1))}`
}

/** The innermost message of a SQL failure (the driver's "connect ECONNREFUSED ..." rather than "Failed to connect"). */
const detailOf = (e: SqlError): string => {
  let cause: unknown = e
  for (let i = 0; i < 5 && typeof cause === "object" && cause !== null && "cause" in cause && cause.cause !== undefined; i++) {
    cause = (cause as { cause: unknown }).cause
  }
  return cause instanceof Error ? cause.message : e.message
}

export interface PgOptions {
  /** Connections the pool opens at most (listeners hold one each). */
  readonly maxConnections?: number
  /** `application_name`, shown in pg_stat_activity (e.g. `broker-1`). */
  readonly applicationName?: string
}

/** A pooled client for `url` (`postgresql://user:password@host:port/database`). */
export const layerFromUrl = (url: string, options: PgOptions = {}): Layer.Layer<PgClient.PgClient | SqlClient, SqlError> =>
  PgClient.layer({
    url: Redacted.make(url),
    maxConnections: options.maxConnections ?? 10,
    applicationName: options.applicationName ?? "effect-kafka-broker",
    connectTimeout: "10 seconds"
  })

/**
 * The client for the broker's `storage.url`, checked with one query at start so that a wrong address fails the
 * start with one line; fails when the broker is configured for files.
 */
export const layer: Layer.Layer<PgClient.PgClient | SqlClient, DatabaseUnavailable | InvalidConfig | SqlError, BrokerConfig> = Layer.unwrap(
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const url = config.storageUrl
    if (url === undefined) {
      return yield* new InvalidConfig({ message: "storage.url: PostgreSQL storage needs a postgresql:// URL" })
    }
    const unavailable = (e: SqlError) => new DatabaseUnavailable({ where: whereOf(url), detail: detailOf(e) })
    return layerFromUrl(url, { applicationName: `effect-kafka-broker-${config.nodeId}` }).pipe(
      Layer.tap((context) => Context.get(context, SqlClient)`select 1`.pipe(Effect.asVoid, Effect.mapError(unavailable)))
    )
  })
)
