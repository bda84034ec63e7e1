// The hashing SASL needs (SHA-256/512 digests, HMACs, PBKDF2, random salts and nonces, constant-time comparison),
// as a service so that the SCRAM and PLAIN cores stay pure: the broker provides Node's crypto
// (layers/security/NodeHashing.ts).
import { Context } from "effect"

export type HashAlgorithm = "sha256" | "sha512"

export interface HashingShape {
  readonly hash: (algorithm: HashAlgorithm, data: string | Uint8Array) => Uint8Array
  readonly hmac: (algorithm: HashAlgorithm, key: Uint8Array, data: string | Uint8Array) => Uint8Array
  readonly pbkdf2: (algorithm: HashAlgorithm, password: string, salt: Uint8Array, iterations: number, length: number) => Uint8Array
  readonly randomBytes: (n: number) => Uint8Array
  /** Equal lengths only; the time taken does not depend on where the bytes differ. */
  readonly timingSafeEqual: (a: Uint8Array, b: Uint8Array) => boolean
}

export class Hashing extends Context.Service<Hashing, HashingShape>()("kafka/Hashing") {}
