// The SASL handshake state machine over the connection pipeline and the test layers: only ApiVersions,
// SaslHandshake and SaslAuthenticate before authentication; PLAIN over SaslAuthenticate and over kafka-python's
// raw tokens; 33 with the enabled list; 58 then close; SCRAM-SHA-256 against credentials set with
// AlterUserScramCredentials, listed by DescribeUserScramCredentials and still there after a restart.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto"
import { decodeResponse, RawClient } from "../../src/client/RawClient.ts"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { AlterUserScramCredentials } from "../../src/protocol/messages/AlterUserScramCredentials.ts"
import { ApiVersions } from "../../src/protocol/messages/ApiVersions.ts"
import { DescribeUserScramCredentials } from "../../src/protocol/messages/DescribeUserScramCredentials.ts"
import { Metadata } from "../../src/protocol/messages/Metadata.ts"
import { SaslAuthenticate } from "../../src/protocol/messages/SaslAuthenticate.ts"
import { SaslHandshake } from "../../src/protocol/messages/SaslHandshake.ts"
import type { ConnectionInfo } from "../../src/services/api/Handler.ts"
import { serveConnection } from "../../src/services/network/Connection.ts"
import { SaslSession } from "../../src/services/security/Sasl.ts"
import { nodeHashing } from "../../src/layers/security/NodeHashing.ts"
import { ScramCredentials } from "../../src/services/security/ScramCredentials.ts"
import * as TestLayers from "../support/TestLayers.ts"
import { memorySocket } from "../support/MemorySocket.ts"


const enc = new TextEncoder()
const metadataAll = { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }
const plainToken = (user: string, password: string) => enc.encode(`\u0000${user}\u0000${password}`)
const rawFrame = (token: Uint8Array) => {
  const out = new Uint8Array(4 + token.length)
  new DataView(out.buffer).setInt32(0, token.length)
  out.set(token, 4)
  return out
}

const saslConnection = (mechanisms: Array<string>) =>
  Effect.map(ScramCredentials, (scram): ConnectionInfo => ({
    id: 1,
    localHost: "127.0.0.1",
    localPort: 9092,
    remote: "test:1",
    sasl: new SaslSession({ mechanisms, plainUsers: new Map([["alice", "alice-secret"]]), scram: scram.lookup, maxReauthMs: 60_000, hashing: nodeHashing })
  }))

/** Serves the requests on one SASL connection; the frames written back and the connection. */
const serve = (requests: ReadonlyArray<Uint8Array>, mechanisms = ["PLAIN", "SCRAM-SHA-256"]) =>
  Effect.gen(function*() {
    const connection = yield* saslConnection(mechanisms)
    const { socket, written } = memorySocket(requests)
    yield* serveConnection(socket, connection)
    return { frames: written.map((w) => w.subarray(4)), connection }
  })

const provide = <A, E, R>(e: Effect.Effect<A, E, R>) =>
  e.pipe(Effect.provide(TestLayers.layer(MemoryFileSystem.make(), { topics: { orders: 1 } })))

describe("SASL on a connection", () => {
  it.effect("before authentication: ApiVersions is answered, Metadata closes the connection", () =>
    provide(Effect.gen(function*() {
      const { frames } = yield* serve([
        RawClient.encode(ApiVersions, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" }, 1),
        RawClient.encode(Metadata, 12, metadataAll, 2),
        RawClient.encode(ApiVersions, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" }, 3)
      ])
      assert.strictEqual(frames.length, 1)
    })))

  it.effect("an unknown mechanism: 33 with the enabled list", () =>
    provide(Effect.gen(function*() {
      const { frames } = yield* serve([RawClient.encode(SaslHandshake, 1, { mechanism: "GSSAPI" }, 1)])
      assert.deepStrictEqual(decodeResponse(SaslHandshake, 1, frames[0]!), { errorCode: 33, mechanisms: ["PLAIN", "SCRAM-SHA-256"] })
    })))

  it.effect("PLAIN over SaslAuthenticate v2: authenticated, session lifetime, then Metadata is answered", () =>
    provide(Effect.gen(function*() {
      const { frames, connection } = yield* serve([
        RawClient.encode(SaslHandshake, 1, { mechanism: "PLAIN" }, 1),
        RawClient.encode(SaslAuthenticate, 2, { authBytes: plainToken("alice", "alice-secret") }, 2),
        RawClient.encode(Metadata, 12, metadataAll, 3)
      ])
      assert.strictEqual(decodeResponse(SaslHandshake, 1, frames[0]!).errorCode, 0)
      const auth = decodeResponse(SaslAuthenticate, 2, frames[1]!)
      assert.strictEqual(auth.errorCode, 0)
      assert.strictEqual(auth.sessionLifetimeMs, 60_000)
      assert.deepStrictEqual(decodeResponse(Metadata, 12, frames[2]!).topics.map((t) => t.name), ["orders"])
      assert.strictEqual(connection.principal, "User:alice")
    })))

  it.effect("a wrong password: 58 with a message naming no password, then the connection closes", () =>
    provide(Effect.gen(function*() {
      const { frames, connection } = yield* serve([
        RawClient.encode(SaslHandshake, 1, { mechanism: "PLAIN" }, 1),
        RawClient.encode(SaslAuthenticate, 1, { authBytes: plainToken("alice", "guess") }, 2),
        RawClient.encode(Metadata, 12, metadataAll, 3)
      ])
      assert.strictEqual(frames.length, 2)
      const auth = decodeResponse(SaslAuthenticate, 1, frames[1]!)
      assert.strictEqual(auth.errorCode, 58)
      assert.notInclude(auth.errorMessage ?? "", "guess")
      assert.strictEqual(connection.principal, "User:ANONYMOUS")
    })))

  it.effect("a v0 handshake then raw size-prefixed tokens (kafka-python 2.0.2)", () =>
    provide(Effect.gen(function*() {
      const { frames, connection } = yield* serve([
        RawClient.encode(SaslHandshake, 0, { mechanism: "PLAIN" }, 1),
        rawFrame(plainToken("alice", "alice-secret")),
        RawClient.encode(Metadata, 1, metadataAll, 3)
      ])
      assert.strictEqual(frames.length, 3)
      assert.strictEqual(frames[1]!.length, 0)
      assert.strictEqual(connection.principal, "User:alice")
    })))

  it.effect("SCRAM-SHA-256 against credentials from AlterUserScramCredentials, described, and kept across a restart", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const salt = randomBytes(16)
      const salted = pbkdf2Sync("bob-secret", salt, 4096, 32, "sha256")
      const setUp = Effect.gen(function*() {
        const { frames } = yield* serve([
          RawClient.encode(SaslHandshake, 1, { mechanism: "PLAIN" }, 1),
          RawClient.encode(SaslAuthenticate, 2, { authBytes: plainToken("alice", "alice-secret") }, 2),
          RawClient.encode(AlterUserScramCredentials, 0, {
            deletions: [],
            upsertions: [{ name: "bob", mechanism: 1, iterations: 4096, salt, saltedPassword: salted }, { name: "eve", mechanism: 1, iterations: 10, salt, saltedPassword: salted }]
          }, 3)
        ])
        const altered = decodeResponse(AlterUserScramCredentials, 0, frames[2]!)
        assert.deepStrictEqual(altered.results.map((r) => [r.user, r.errorCode]), [["bob", 0], ["eve", 93]])
      })
      yield* setUp.pipe(Effect.provide(TestLayers.layer(fs)))

      // A restart: the same file system, a new broker.
      yield* Effect.gen(function*() {
        const cnonce = "clientnonce123"
        const first = yield* serve([
          RawClient.encode(SaslHandshake, 1, { mechanism: "SCRAM-SHA-256" }, 1),
          RawClient.encode(SaslAuthenticate, 2, { authBytes: enc.encode(`n,,n=bob,r=${cnonce}`) }, 2)
        ])
        const serverFirst = new TextDecoder().decode(decodeResponse(SaslAuthenticate, 2, first.frames[1]!).authBytes)
        assert.match(serverFirst, new RegExp(`^r=${cnonce}.+,s=${salt.toString("base64").replace(/[+/]/g, "\\$&")},i=4096$`))
        // The whole exchange on one connection, the client's proof computed from the server's first message.
        const connection = yield* saslConnection(["SCRAM-SHA-256"])
        const session = connection.sasl!
        assert.strictEqual(session.handshake("SCRAM-SHA-256", 1).errorCode, 0)
        const step1 = session.authenticate(enc.encode(`n,,n=bob,r=${cnonce}`), Date.now())
        if (step1._tag !== "Continue") return assert.fail(step1._tag)
        const sf = new TextDecoder().decode(step1.token)
        const nonce = /r=([^,]+)/.exec(sf)![1]!
        const clientKey = createHmac("sha256", salted).update("Client Key").digest()
        const storedKey = createHash("sha256").update(clientKey).digest()
        const withoutProof = `c=biws,r=${nonce}`
        const sig = createHmac("sha256", storedKey).update(`n=bob,r=${cnonce},${sf},${withoutProof}`).digest()
        const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]!)).toString("base64")
        const step2 = session.authenticate(enc.encode(`${withoutProof},p=${proof}`), Date.now())
        assert.strictEqual(step2._tag, "Done")
        assert.strictEqual(session.principal, "User:bob")

        const described = yield* serve([
          RawClient.encode(SaslHandshake, 1, { mechanism: "PLAIN" }, 1),
          RawClient.encode(SaslAuthenticate, 2, { authBytes: plainToken("alice", "alice-secret") }, 2),
          RawClient.encode(DescribeUserScramCredentials, 0, { users: null }, 3)
        ])
        const d = decodeResponse(DescribeUserScramCredentials, 0, described.frames[2]!)
        assert.deepStrictEqual(d.results.map((r) => [r.user, r.credentialInfos]), [["bob", [{ mechanism: 1, iterations: 4096 }]]])
      }).pipe(Effect.provide(TestLayers.layer(fs)))
    }))
})

describe("SaslSession re-authentication (KIP-368)", () => {
  const session = () =>
    new SaslSession({ mechanisms: ["PLAIN"], plainUsers: new Map([["alice", "a"], ["bob", "b"]]), scram: () => undefined, maxReauthMs: 60_000, hashing: nodeHashing })

  it("a session expires after connections.max.reauth.ms; re-authenticating as the same user renews it", () => {
    const s = session()
    s.handshake("PLAIN", 1)
    const done = s.authenticate(plainToken("alice", "a"), 1_000)
    assert.deepStrictEqual(done._tag === "Done" && done.sessionLifetimeMs, 60_000)
    assert.isFalse(s.expired(60_999))
    assert.isTrue(s.expired(61_000))
    assert.strictEqual(s.handshake("PLAIN", 1).errorCode, 0)
    assert.strictEqual(s.authenticate(plainToken("alice", "a"), 61_000)._tag, "Done")
    assert.isFalse(s.expired(100_000))
  })

  it("re-authenticating as another principal fails; a handshake in the middle of an exchange is 34", () => {
    const s = session()
    s.handshake("PLAIN", 1)
    s.authenticate(plainToken("alice", "a"), 0)
    s.handshake("PLAIN", 1)
    const other = s.authenticate(plainToken("bob", "b"), 1)
    assert.deepStrictEqual(other._tag === "Failed" && other.errorCode, 58)
    assert.strictEqual(s.principal, "User:alice")
    const t = session()
    t.handshake("PLAIN", 1)
    assert.strictEqual(t.handshake("PLAIN", 1).errorCode, 34)
    assert.strictEqual(session().authenticate(plainToken("alice", "a"), 0)._tag, "Failed")
  })
})
