// SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) on the server side, as a pure exchange over the Hashing service:
// the client's first message → the server's first (nonce, salt, iterations) → the client's final message with
// its proof → the server's signature. Credentials are what Kafka stores (salt, iterations, StoredKey, ServerKey),
// never the password. librdkafka before 2.6.1 repeats the client nonce in its final message; as Kafka 3.8.1+
// does, the nonce is accepted when it starts with the client's part and ends with the server's.
import type { HashingShape } from "./Hashing.ts"

export type ScramMechanism = "SCRAM-SHA-256" | "SCRAM-SHA-512"

export const SCRAM_MECHANISMS: ReadonlyArray<ScramMechanism> = ["SCRAM-SHA-256", "SCRAM-SHA-512"]

/** Kafka's ScramMechanism enum values in UserScramCredentialRecord and the admin APIs. */
export const mechanismType = (m: ScramMechanism): number => (m === "SCRAM-SHA-256" ? 1 : 2)
export const mechanismOfType = (t: number): ScramMechanism | undefined =>
  t === 1 ? "SCRAM-SHA-256" : t === 2 ? "SCRAM-SHA-512" : undefined

/** Kafka refuses fewer iterations than this, and more than MAX_ITERATIONS. */
export const MIN_ITERATIONS = 4096
export const MAX_ITERATIONS = 16384

export interface ScramCredential {
  readonly mechanism: ScramMechanism
  readonly salt: Uint8Array
  readonly iterations: number
  readonly storedKey: Uint8Array
  readonly serverKey: Uint8Array
}

const hashOf = (m: ScramMechanism) => (m === "SCRAM-SHA-256" ? "sha256" : "sha512")
const hashLength = (m: ScramMechanism) => (m === "SCRAM-SHA-256" ? 32 : 64)

/** The credential a password gives with this salt and iteration count. */
export const makeCredential = (
  h: HashingShape,
  mechanism: ScramMechanism,
  password: string,
  iterations: number,
  salt: Uint8Array = h.randomBytes(32)
): ScramCredential => {
  const salted = h.pbkdf2(hashOf(mechanism), password.normalize("NFKC"), salt, iterations, hashLength(mechanism))
  return credentialFromSaltedPassword(h, mechanism, salted, salt, iterations)
}

/** The credential from an already salted password (AlterUserScramCredentials sends that, not the password). */
export const credentialFromSaltedPassword = (
  h: HashingShape,
  mechanism: ScramMechanism,
  saltedPassword: Uint8Array,
  salt: Uint8Array,
  iterations: number
): ScramCredential => ({
  mechanism,
  salt,
  iterations,
  storedKey: h.hash(hashOf(mechanism), h.hmac(hashOf(mechanism), saltedPassword, "Client Key")),
  serverKey: h.hmac(hashOf(mechanism), saltedPassword, "Server Key")
})

/** SCRAM's saslname: `=2C` and `=3D` stand for `,` and `=`; any other `=` is an error. */
export const decodeSaslName = (name: string): string | undefined => {
  if (/=(?!2C|3D)/.test(name)) return undefined
  return name.replace(/=2C/g, ",").replace(/=3D/g, "=")
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64")

const attributes = (message: string): Map<string, string> | undefined => {
  const out = new Map<string, string>()
  for (const part of message.split(",")) {
    const m = /^([A-Za-z])=(.*)$/s.exec(part)
    if (m === null) return undefined
    if (!out.has(m[1]!)) out.set(m[1]!, m[2]!)
  }
  return out
}

export interface ClientFirst {
  readonly gs2Header: string
  readonly username: string
  readonly authzid: string | undefined
  readonly nonce: string
  readonly bare: string
  /** Extensions (`tokenauth=true` for delegation tokens, which are not served). */
  readonly extensions: ReadonlyMap<string, string>
}

/** Parses `n,,n=user,r=nonce[,ext=...]`; undefined when it is not a SCRAM client-first message. */
export const parseClientFirst = (message: string): ClientFirst | undefined => {
  const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(message)
  if (m === null) return undefined
  if (m[1]!.startsWith("p=")) return undefined // channel binding is not offered
  const bare = m[3]!
  const bm = /^n=([^,]*),r=([^,]+)((?:,[^,]*)*)$/s.exec(bare)
  if (bm === null) return undefined
  const username = decodeSaslName(bm[1]!)
  if (username === undefined || username.length === 0) return undefined
  const extensions = new Map<string, string>()
  for (const ext of bm[3]!.split(",").filter((s) => s.length > 0)) {
    const i = ext.indexOf("=")
    if (i <= 0) return undefined
    extensions.set(ext.slice(0, i), ext.slice(i + 1))
  }
  const authzid = m[2] === undefined ? undefined : decodeSaslName(m[2].slice(2))
  return { gs2Header: `${m[1]},${m[2] ?? ""},`, username, authzid, nonce: bm[2]!, bare, extensions }
}

export type ScramStep =
  | { readonly _tag: "Challenge"; readonly message: string; readonly next: ScramServer }
  | { readonly _tag: "Success"; readonly message: string; readonly username: string }
  | { readonly _tag: "Failure"; readonly reason: string }

/** The server's side of one exchange; each step takes the client's message. */
export type ScramServer = (message: string) => ScramStep

const fail = (reason: string): ScramStep => ({ _tag: "Failure", reason })

/**
 * Starts an exchange. `lookup` finds a user's credential (undefined: unknown user, refused like a wrong password,
 * so that names cannot be probed). `serverNonce` is random unless given (tests).
 */
export const scramServer = (
  h: HashingShape,
  mechanism: ScramMechanism,
  lookup: (username: string) => ScramCredential | undefined,
  serverNonce: string = b64(h.randomBytes(18)).replace(/[+/=]/g, "x")
): ScramServer =>
(message) => {
  const alg = hashOf(mechanism)
  const first = parseClientFirst(message)
  if (first === undefined) return fail("Invalid SCRAM client first message")
  if (first.authzid !== undefined && first.authzid !== "" && first.authzid !== first.username) {
    return fail("Authorization id does not match the user name")
  }
  if (first.extensions.get("tokenauth") === "true") return fail("Delegation tokens are not supported")
  const credential = lookup(first.username)
  const nonce = first.nonce + serverNonce
  const salt = credential?.salt ?? h.randomBytes(32)
  const iterations = credential?.iterations ?? MIN_ITERATIONS
  const serverFirst = `r=${nonce},s=${b64(salt)},i=${iterations}`
  const final: ScramServer = (clientFinal) => {
    const pi = clientFinal.lastIndexOf(",p=")
    if (pi < 0) return fail("Invalid SCRAM client final message")
    const withoutProof = clientFinal.slice(0, pi)
    const attrs = attributes(withoutProof)
    const proof = Buffer.from(clientFinal.slice(pi + 3), "base64")
    if (attrs === undefined) return fail("Invalid SCRAM client final message")
    if (attrs.get("c") !== b64(Buffer.from(first.gs2Header))) return fail("Invalid channel binding")
    const r = attrs.get("r") ?? ""
    if (!(r === nonce || (r.startsWith(first.nonce) && r.endsWith(serverNonce)))) return fail("Invalid nonce")
    if (credential === undefined) return fail("Authentication failed: invalid credentials")
    const authMessage = `${first.bare},${serverFirst},${withoutProof}`
    const clientSignature = h.hmac(alg, credential.storedKey, authMessage)
    if (proof.length !== clientSignature.length) return fail("Authentication failed: invalid credentials")
    const clientKey = new Uint8Array(proof.length)
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!
    if (!h.timingSafeEqual(h.hash(alg, clientKey), credential.storedKey)) {
      return fail("Authentication failed: invalid credentials")
    }
    return {
      _tag: "Success",
      message: `v=${b64(h.hmac(alg, credential.serverKey, authMessage))}`,
      username: first.username
    }
  }
  return { _tag: "Challenge", message: serverFirst, next: final }
}
