// The PostgreSQL client every SQL layer uses: `@effect/sql-pg`'s pooled client (its own wire protocol, no
// driver of ours) over `storage.url`. It provides both `PgClient` (LISTEN/NOTIFY) and the generic `SqlClient`.
// The URL is kept Redacted: it may carry a password.
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { BrokerConfig, InvalidConfig } from "../../services/config/BrokerConfig.ts"

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

/** The client for the broker's `storage.url`; fails when the broker is configured for files. */
export const layer: Layer.Layer<PgClient.PgClient | SqlClient, SqlError | InvalidConfig, BrokerConfig> = Layer.unwrap(
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    if (config.storageUrl === undefined) {
      return yield* new InvalidConfig({ message: "storage.url: PostgreSQL storage needs a postgresql:// URL" })
    }
    return layerFromUrl(config.storageUrl, { applicationName: `effect-kafka-broker-${config.nodeId}` })
  })
)
