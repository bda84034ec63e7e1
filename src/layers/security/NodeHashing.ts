// Hashing over node:crypto.
import * as Crypto from "node:crypto"
import { Layer } from "effect"
import { Hashing, type HashingShape } from "../../services/security/Hashing.ts"

export const nodeHashing: HashingShape = {
  hash: (algorithm, data) => new Uint8Array(Crypto.createHash(algorithm).update(data).digest()),
  hmac: (algorithm, key, data) => new Uint8Array(Crypto.createHmac(algorithm, key).update(data).digest()),
  pbkdf2: (algorithm, password, salt, iterations, length) =>
    new Uint8Array(Crypto.pbkdf2Sync(password, salt, iterations, length, algorithm)),
  randomBytes: (n) => new Uint8Array(Crypto.randomBytes(n)),
  timingSafeEqual: (a, b) => a.length === b.length && Crypto.timingSafeEqual(a, b)
}

export const layer = Layer.succeed(Hashing, nodeHashing)
