// The SASL state of one connection on a SASL_PLAINTEXT or SASL_SSL listener, as a pure machine the connection
// drives: SaslHandshake picks a mechanism among the listener's enabled ones (33 and the enabled list otherwise);
// SaslAuthenticate (or, after a v0 handshake, raw size-prefixed tokens as kafka-python sends) carries the
// mechanism's exchange; success sets the principal (`User:<name>`). Until then only ApiVersions, SaslHandshake
// and SaslAuthenticate may be sent. A failure answers 58 with a message naming no password, then closes.
// With `connections.max.reauth.ms` a session lasts that long (KIP-368): the client re-authenticates over the
// same connection with a new handshake, as the same principal; past its lifetime any other request closes it.
import type { HashingShape } from "./Hashing.ts"
import { type ScramCredential, type ScramMechanism, type ScramServer, scramServer, SCRAM_MECHANISMS } from "./Scram.ts"

export const ANONYMOUS_PRINCIPAL = "User:ANONYMOUS"

/** Error codes of the SASL APIs. */
export const UNSUPPORTED_SASL_MECHANISM = 33
export const ILLEGAL_SASL_STATE = 34
export const SASL_AUTHENTICATION_FAILED = 58

export interface SaslOptions {
  readonly mechanisms: ReadonlyArray<string>
  readonly plainUsers: ReadonlyMap<string, string>
  readonly scram: (mechanism: ScramMechanism, user: string) => ScramCredential | undefined
  readonly maxReauthMs: number
  readonly hashing: HashingShape
}

/** Mechanisms this broker can run (GSSAPI and OAUTHBEARER are not). */
const SERVED = new Set<string>(["PLAIN", ...SCRAM_MECHANISMS])

type Exchange = (token: Uint8Array) =>
  | { readonly _tag: "Continue"; readonly token: Uint8Array; readonly next: Exchange }
  | { readonly _tag: "Done"; readonly token: Uint8Array; readonly user: string }
  | { readonly _tag: "Failed"; readonly message: string }

const utf8 = new TextDecoder("utf-8", { fatal: false })
const encoder = new TextEncoder()

const plainExchange = (users: ReadonlyMap<string, string>, h: HashingShape): Exchange => (token) => {
  // authzid NUL authcid NUL password
  const parts = utf8.decode(token).split("\u0000")
  if (parts.length !== 3) return { _tag: "Failed", message: "Invalid SASL/PLAIN response: expected 3 tokens" }
  const [authzid, user, password] = parts as [string, string, string]
  if (user === "") return { _tag: "Failed", message: "Authentication failed: username not specified" }
  if (authzid !== "" && authzid !== user) {
    return { _tag: "Failed", message: "Authentication failed: Client requested an authorization id that is different from username" }
  }
  const expected = users.get(user)
  if (expected === undefined || !constantTimeEquals(h, expected, password)) {
    return { _tag: "Failed", message: "Authentication failed: Invalid username or password" }
  }
  return { _tag: "Done", token: new Uint8Array(0), user }
}

/** Compares digests, so the time taken tells nothing about the password. */
const constantTimeEquals = (h: HashingShape, a: string, b: string) =>
  h.timingSafeEqual(h.hash("sha256", a), h.hash("sha256", b))

const scramExchange = (server: ScramServer): Exchange => (token) => {
  const step = server(utf8.decode(token))
  if (step._tag === "Failure") return { _tag: "Failed", message: step.reason }
  if (step._tag === "Challenge") return { _tag: "Continue", token: encoder.encode(step.message), next: scramExchange(step.next) }
  return { _tag: "Done", token: encoder.encode(step.message), user: step.username }
}

export type SaslState =
  | { readonly _tag: "AwaitingHandshake" }
  | { readonly _tag: "Authenticating"; readonly exchange: Exchange; readonly raw: boolean }
  | { readonly _tag: "Authenticated" }

export type AuthenticateResult =
  | { readonly _tag: "Continue"; readonly token: Uint8Array }
  | { readonly _tag: "Done"; readonly token: Uint8Array; readonly sessionLifetimeMs: number }
  | { readonly _tag: "Failed"; readonly errorCode: number; readonly message: string }

export class SaslSession {
  state: SaslState = { _tag: "AwaitingHandshake" }
  /** The authenticated principal; it stays while a re-authentication is under way. */
  principal: string | undefined = undefined
  /** When the session ends (ms since the epoch); Infinity without connections.max.reauth.ms. */
  expiresAt = Infinity
  readonly options: SaslOptions
  constructor(options: SaslOptions) {
    this.options = options
  }

  get authenticated() {
    return this.principal !== undefined
  }
  /** Whether raw tokens (after a v0 handshake) are expected instead of requests. */
  get raw() {
    return this.state._tag === "Authenticating" && this.state.raw
  }
  expired(now: number) {
    return this.authenticated && now >= this.expiresAt
  }

  /** SaslHandshake: the error code to answer (0, 33 or 34) and the enabled mechanisms. */
  handshake(mechanism: string, version: number): { readonly errorCode: number; readonly mechanisms: Array<string> } {
    const mechanisms = [...this.options.mechanisms]
    if (this.state._tag === "Authenticating") return { errorCode: ILLEGAL_SASL_STATE, mechanisms }
    if (!this.options.mechanisms.includes(mechanism) || !SERVED.has(mechanism)) {
      return { errorCode: UNSUPPORTED_SASL_MECHANISM, mechanisms }
    }
    const exchange = mechanism === "PLAIN"
      ? plainExchange(this.options.plainUsers, this.options.hashing)
      : scramExchange(scramServer(this.options.hashing, mechanism as ScramMechanism, (u) => this.options.scram(mechanism as ScramMechanism, u)))
    this.state = { _tag: "Authenticating", exchange, raw: version === 0 }
    return { errorCode: 0, mechanisms }
  }

  /** One SaslAuthenticate (or raw) token. */
  authenticate(token: Uint8Array, now: number): AuthenticateResult {
    if (this.state._tag !== "Authenticating") {
      return { _tag: "Failed", errorCode: ILLEGAL_SASL_STATE, message: "Unexpected SaslAuthenticate: no SaslHandshake before it" }
    }
    const step = this.state.exchange(token)
    if (step._tag === "Failed") return { _tag: "Failed", errorCode: SASL_AUTHENTICATION_FAILED, message: step.message }
    if (step._tag === "Continue") {
      this.state = { _tag: "Authenticating", exchange: step.next, raw: this.state.raw }
      return { _tag: "Continue", token: step.token }
    }
    const principal = `User:${step.user}`
    if (this.principal !== undefined && this.principal !== principal) {
      return { _tag: "Failed", errorCode: SASL_AUTHENTICATION_FAILED, message: "Cannot change principals during re-authentication" }
    }
    this.principal = principal
    this.state = { _tag: "Authenticated" }
    const lifetime = this.options.maxReauthMs
    this.expiresAt = lifetime > 0 ? now + lifetime : Infinity
    return { _tag: "Done", token: step.token, sessionLifetimeMs: lifetime }
  }
}
