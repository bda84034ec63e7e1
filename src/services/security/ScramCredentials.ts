// The SCRAM credentials SASL/SCRAM logins are checked against: user → mechanism → salt, iterations, StoredKey,
// ServerKey (never a password). `lookup` is synchronous: it reads a map kept current by the layer.
import { Context, Effect, Layer } from "effect"
import type { ScramCredential, ScramMechanism } from "./Scram.ts"

export class ScramCredentials extends Context.Service<ScramCredentials, {
  readonly lookup: (mechanism: ScramMechanism, user: string) => ScramCredential | undefined
  /** Every stored credential, by user. */
  readonly all: Effect.Effect<ReadonlyMap<string, ReadonlyArray<ScramCredential>>>
  readonly upsert: (user: string, credential: ScramCredential) => Effect.Effect<void>
  readonly remove: (user: string, mechanism: ScramMechanism) => Effect.Effect<boolean>
}>()("kafka/ScramCredentials") {
  /** Credentials kept in memory only. */
  static readonly layerMemory = Layer.sync(this, () => {
    const users = new Map<string, Map<ScramMechanism, ScramCredential>>()
    return ScramCredentials.of({
      lookup: (mechanism, user) => users.get(user)?.get(mechanism),
      all: Effect.sync(() => new Map([...users].map(([u, m]) => [u, [...m.values()]]))),
      upsert: (user, credential) =>
        Effect.sync(() => {
          const m = users.get(user) ?? new Map()
          m.set(credential.mechanism, credential)
          users.set(user, m)
        }),
      remove: (user, mechanism) =>
        Effect.sync(() => {
          const removed = users.get(user)?.delete(mechanism) ?? false
          if (users.get(user)?.size === 0) users.delete(user)
          return removed
        })
    })
  })
}
