// The SCRAM credentials SASL/SCRAM logins are checked against: user → mechanism → salt, iterations, StoredKey,
// ServerKey (never a password). `lookup` is synchronous: it reads a map kept current by the layer. The broker's
// layer keeps them as UserScramCredentialRecords in the metadata log, as Kafka does, so they survive restarts.
import { Context, Effect, Layer } from "effect"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { mechanismOfType, mechanismType, type ScramCredential, type ScramMechanism } from "./Scram.ts"

export class ScramCredentials extends Context.Service<ScramCredentials, {
  readonly lookup: (mechanism: ScramMechanism, user: string) => ScramCredential | undefined
  /** Every stored credential, by user. */
  readonly all: Effect.Effect<ReadonlyMap<string, ReadonlyArray<ScramCredential>>>
  readonly upsert: (user: string, credential: ScramCredential) => Effect.Effect<void>
  readonly remove: (user: string, mechanism: ScramMechanism) => Effect.Effect<boolean>
}>()("kafka/ScramCredentials") {
  /** Credentials in the metadata log (UserScramCredentialRecord, RemoveUserScramCredentialRecord). */
  static readonly layer = Layer.effect(this, Effect.gen(function*() {
    const metadata = yield* ClusterMetadata
    // The image is held in memory: reading it is synchronous.
    const image = () => Effect.runSync(metadata.image)
    const toCredential = (mechanism: ScramMechanism, c: { salt: Uint8Array; storedKey: Uint8Array; serverKey: Uint8Array; iterations: number }) =>
      ({ mechanism, salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey, iterations: c.iterations })
    return ScramCredentials.of({
      lookup: (mechanism, user) => {
        const c = image().scramCredentials.get(user)?.get(mechanismType(mechanism))
        return c === undefined ? undefined : toCredential(mechanism, c)
      },
      all: Effect.map(metadata.image, (img) =>
        new Map([...img.scramCredentials].map(([u, m]) => [
          u,
          [...m].flatMap(([t, c]) => {
            const mech = mechanismOfType(t)
            return mech === undefined ? [] : [toCredential(mech, c)]
          })
        ]))),
      upsert: (user, c) =>
        metadata.update(() =>
          Effect.succeed({
            records: [{
              type: "UserScramCredential" as const,
              name: user,
              mechanism: mechanismType(c.mechanism),
              salt: c.salt,
              storedKey: c.storedKey,
              serverKey: c.serverKey,
              iterations: c.iterations
            }],
            result: undefined
          })
        ).pipe(Effect.orDie),
      remove: (user, mechanism) =>
        metadata.update((img) => {
          const present = img.scramCredentials.get(user)?.has(mechanismType(mechanism)) ?? false
          return Effect.succeed({
            records: present ? [{ type: "RemoveUserScramCredential" as const, name: user, mechanism: mechanismType(mechanism) }] : [],
            result: present
          })
        }).pipe(Effect.orDie)
    })
  }))

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
