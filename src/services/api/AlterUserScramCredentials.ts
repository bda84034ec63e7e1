// AlterUserScramCredentials v0: upserts and deletes SCRAM credentials, stored as UserScramCredentialRecords
// in the metadata log (the client sends the salted password, never the password). As Kafka: an unknown
// mechanism → UNSUPPORTED_SASL_MECHANISM (33); an empty name, or iterations outside 4096-16384 →
// UNACCEPTABLE_CREDENTIAL (93); a user altered twice for one mechanism → DUPLICATE_RESOURCE (92); deleting a
// credential that does not exist → RESOURCE_NOT_FOUND (91). A user with any error has none of its changes applied.
// With an authorizer it needs ALTER on the cluster, else every user named answers CLUSTER_AUTHORIZATION_FAILED (31).
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { AlterUserScramCredentials } from "../../protocol/messages/AlterUserScramCredentials.ts"
import { credentialFromSaltedPassword, MAX_ITERATIONS, mechanismOfType, MIN_ITERATIONS } from "../security/Scram.ts"
import { ScramCredentials } from "../security/ScramCredentials.ts"
import { Hashing } from "../security/Hashing.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

export const make = handler(AlterUserScramCredentials, "0", (request, context) =>
  Effect.gen(function*() {
    const authorization = yield* Authorization.current
    if (authorization.denied(context.connection, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      const named = [...new Set([...request.deletions, ...request.upsertions].map((u) => u.name))].sort()
      return {
        throttleTimeMs: 0,
        results: named.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed." }))
      }
    }
    const store = yield* ScramCredentials
    const hashing = yield* Hashing
    const errors = new Map<string, { code: number; message: string }>()
    const seen = new Set<string>()
    const setError = (user: string, code: number, message: string) => {
      if (!errors.has(user)) errors.set(user, { code, message })
    }
    const users: Array<string> = []
    const check = (name: string, mechanism: number) => {
      if (!users.includes(name)) users.push(name)
      if (name === "") return setError(name, ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty")
      if (mechanismOfType(mechanism) === undefined) return setError(name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism")
      const key = `${mechanism}:${name}`
      if (seen.has(key)) {
        setError(name, ErrorCode.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request")
      }
      seen.add(key)
    }
    for (const d of request.deletions) {
      check(d.name, d.mechanism)
      const mech = mechanismOfType(d.mechanism)
      if (mech !== undefined && store.lookup(mech, d.name) === undefined) {
        setError(d.name, ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist")
      }
    }
    for (const u of request.upsertions) {
      check(u.name, u.mechanism)
      if (u.iterations < MIN_ITERATIONS || u.iterations > MAX_ITERATIONS) {
        setError(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, `Iterations must be between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`)
      }
    }
    for (const d of request.deletions) {
      const mech = mechanismOfType(d.mechanism)
      if (!errors.has(d.name) && mech !== undefined) yield* store.remove(d.name, mech)
    }
    for (const u of request.upsertions) {
      const mech = mechanismOfType(u.mechanism)
      if (!errors.has(u.name) && mech !== undefined) {
        yield* store.upsert(u.name, credentialFromSaltedPassword(hashing, mech, u.saltedPassword, u.salt, u.iterations))
      }
    }
    return {
      throttleTimeMs: 0,
      results: users.map((user) => {
        const e = errors.get(user)
        return { user, errorCode: e?.code ?? 0, errorMessage: e?.message ?? null }
      })
    }
  }))
