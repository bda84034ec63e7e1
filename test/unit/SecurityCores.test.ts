import { assert, describe, it } from "@effect/vitest"
import { parseJaas, plainUsers } from "../../src/services/security/Jaas.ts"
import { mapPrincipal, parseRules, rfc2253 } from "../../src/services/security/PrincipalMapping.ts"
import { nodeHashing } from "../../src/layers/security/NodeHashing.ts"
import { makeCredential, parseClientFirst, scramServer, type ScramCredential } from "../../src/services/security/Scram.ts"

describe("SCRAM", () => {
  // RFC 7677 section 3.
  it("SCRAM-SHA-256 RFC 7677 test vector", () => {
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64")
    const cred = makeCredential(nodeHashing, "SCRAM-SHA-256", "pencil", 4096, salt)
    const server = scramServer(nodeHashing, "SCRAM-SHA-256", (u) => (u === "user" ? cred : undefined), "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
    const first = server("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
    assert.strictEqual(first._tag, "Challenge")
    if (first._tag !== "Challenge") return
    assert.strictEqual(first.message, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    const final = first.next("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    assert.deepStrictEqual(final, { _tag: "Success", message: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", username: "user" })
  })

  it("a wrong proof, an unknown user and a foreign nonce fail", () => {
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64")
    const cred = makeCredential(nodeHashing, "SCRAM-SHA-256", "other", 4096, salt)
    const lookup = (u: string): ScramCredential | undefined => (u === "user" ? cred : undefined)
    const run = (user: string, final: string) => {
      const s = scramServer(nodeHashing, "SCRAM-SHA-256", lookup, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")(`n,,n=${user},r=rOprNGfwEbeRWgbNEkqO`)
      return s._tag === "Challenge" ? s.next(final)._tag : s._tag
    }
    const good = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    assert.strictEqual(run("user", good), "Failure")
    assert.strictEqual(run("nobody", good), "Failure")
    assert.strictEqual(run("user", "c=biws,r=someoneelse,p=AAAA"), "Failure")
  })

  it("a full exchange with SCRAM-SHA-512, and librdkafka's repeated client nonce", async () => {
    const { createHmac, createHash, pbkdf2Sync } = await import("node:crypto")
    for (const repeat of [false, true]) {
      const cred = makeCredential(nodeHashing, "SCRAM-SHA-512", "bob-secret", 4096)
      const server = scramServer(nodeHashing, "SCRAM-SHA-512", (u) => (u === "bob" ? cred : undefined))
      const cnonce = "abcdef"
      const first = server(`n,,n=bob,r=${cnonce}`)
      if (first._tag !== "Challenge") return assert.fail(first._tag)
      const attrs = Object.fromEntries(first.message.split(",").map((p) => [p[0], p.slice(2)]))
      const salted = pbkdf2Sync("bob-secret", Buffer.from(attrs.s!, "base64"), Number(attrs.i), 64, "sha512")
      const clientKey = createHmac("sha512", salted).update("Client Key").digest()
      const storedKey = createHash("sha512").update(clientKey).digest()
      const nonce = repeat ? cnonce + attrs.r! : attrs.r!
      const withoutProof = `c=biws,r=${nonce}`
      const authMessage = `n=bob,r=${cnonce},${first.message},${withoutProof}`
      const sig = createHmac("sha512", storedKey).update(authMessage).digest()
      const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]!))
      const final = first.next(`${withoutProof},p=${proof.toString("base64")}`)
      assert.strictEqual(final._tag, "Success")
    }
  })

  it("parses client-first messages with saslname escapes and extensions", () => {
    const f = parseClientFirst("n,,n=a=2Cb=3Dc,r=xyz,tokenauth=true")
    assert.strictEqual(f?.username, "a,b=c")
    assert.strictEqual(f?.extensions.get("tokenauth"), "true")
    assert.isUndefined(parseClientFirst("n,,n=a=b,r=x"))
    assert.isUndefined(parseClientFirst("garbage"))
  })
})

describe("JAAS", () => {
  it("reads PlainLoginModule users", () => {
    const entries = parseJaas(
      `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="al\\"ice;pw";`
    )
    assert.strictEqual(entries.length, 1)
    assert.strictEqual(entries[0]!.flag, "required")
    assert.deepStrictEqual([...plainUsers(entries)], [["admin", "admin-secret"], ["alice", 'al"ice;pw']])
  })
  it("reads several entries, comments and bare values", () => {
    const entries = parseJaas(`/* c */ a.B optional debug=true; // x\n c.D sufficient k = "v" ;`)
    assert.deepStrictEqual(entries.map((e) => [e.loginModule, e.flag, [...e.options]]), [
      ["a.B", "optional", [["debug", "true"]]],
      ["c.D", "sufficient", [["k", "v"]]]
    ])
  })
  it("refuses a missing semicolon, a bad flag and an unterminated string", () => {
    assert.throws(() => parseJaas(`a.B required x="y"`))
    assert.throws(() => parseJaas(`a.B maybe;`))
    assert.throws(() => parseJaas(`a.B required x="y;`))
    assert.throws(() => parseJaas(``))
  })
})

describe("ssl.principal.mapping.rules", () => {
  it("DEFAULT keeps the DN", () => {
    assert.strictEqual(mapPrincipal(parseRules("DEFAULT"), "CN=alice,O=acme"), "CN=alice,O=acme")
  })
  it("RULE with groups and case flags, first match wins, none matching is undefined", () => {
    const rules = parseRules("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/U")
    assert.strictEqual(mapPrincipal(rules, "CN=Kafka-Svc,OU=ServiceUsers,O=Unknown"), "kafka-svc")
    assert.strictEqual(mapPrincipal(rules, "CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown"), "ADMINUSER@ADMIN")
    assert.isUndefined(mapPrincipal(rules, "CN=x"))
    assert.strictEqual(mapPrincipal(parseRules("RULE:^CN=([^,]*).*$/$1/, DEFAULT"), "O=x"), "O=x")
  })
  it("an escaped slash in a pattern, an invalid rule", () => {
    assert.strictEqual(mapPrincipal(parseRules("RULE:^CN=(.*)\\/x$/$1/"), "CN=a/x"), "a")
    assert.throws(() => parseRules("RULE:^CN=(.*$/$1/"))
  })
  it("Node's subject lines become RFC 2253", () => {
    assert.strictEqual(rfc2253("C=US\nO=acme, inc\nCN=alice"), "CN=alice,O=acme\\, inc,C=US")
  })
})
