// TLS settings from Kafka's ssl.* keys: PEM file and inline keystores, PKCS12 keystore and truststore, a JKS
// keystore refused with the conversion command, client auth, protocols, and Java cipher names as OpenSSL's.
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { opensslCipher, tlsSettings } from "../../src/layers/network/Tls.ts"
import { makeCertificates } from "../support/Certificates.ts"

const certs = makeCertificates()
const settings = (keys: Record<string, string>) => tlsSettings("SSL", new Map(Object.entries(keys)))
const failure = (keys: Record<string, string>) => {
  try {
    settings(keys)
    return ""
  } catch (e) {
    return (e as Error).message
  }
}

describe("tlsSettings", () => {
  it("a PEM keystore file, inline PEM, and a PKCS12 keystore and truststore", () => {
    const pem = settings({ "ssl.keystore.type": "PEM", "ssl.keystore.location": certs.serverPem })
    assert.include(String(pem.options.key), "PRIVATE KEY")
    assert.include(String(pem.options.cert), "CERTIFICATE")
    assert.strictEqual(pem.clientAuth, "none")
    const inline = settings({
      "ssl.keystore.type": "PEM",
      "ssl.keystore.key": readFileSync(certs.serverKey, "utf8"),
      "ssl.keystore.certificate.chain": readFileSync(certs.serverCert, "utf8")
    })
    assert.include(String(inline.options.cert), "CERTIFICATE")
    const p12 = join(certs.dir, "server.p12")
    const trust = join(certs.dir, "trust.p12")
    execFileSync("openssl", ["pkcs12", "-export", "-in", certs.serverCert, "-inkey", certs.serverKey, "-out", p12, "-passout", "pass:store-secret"])
    execFileSync("openssl", ["pkcs12", "-export", "-nokeys", "-in", certs.ca, "-out", trust, "-passout", "pass:trust-secret"])
    const s = settings({
      "ssl.keystore.type": "PKCS12",
      "ssl.keystore.location": p12,
      "ssl.keystore.password": "store-secret",
      "ssl.truststore.type": "PKCS12",
      "ssl.truststore.location": trust,
      "ssl.truststore.password": "trust-secret",
      "ssl.client.auth": "requested"
    })
    assert.include(String(s.options.ca), "CERTIFICATE")
    assert.deepStrictEqual([s.options.requestCert, s.options.rejectUnauthorized, s.clientAuth], [true, false, "requested"])
    const wrong = failure({ "ssl.keystore.type": "PKCS12", "ssl.keystore.location": p12, "ssl.keystore.password": "nope" })
    assert.match(wrong, /cannot load the keystore/)
    assert.notInclude(wrong, "nope")
  })

  it("a JKS keystore: one error with the keytool command", () => {
    const jks = join(certs.dir, "server.jks")
    writeFileSync(jks, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]))
    const message = failure({ "ssl.keystore.location": jks, "ssl.keystore.password": "x" })
    assert.match(message, /listener SSL: ssl\.keystore\.type: a JKS keystore cannot be read; convert it to PKCS12 with: keytool -importkeystore -srckeystore .*server\.jks -destkeystore .*server\.p12 -deststoretype PKCS12/)
    assert.match(failure({ "ssl.keystore.type": "JKS", "ssl.keystore.location": certs.serverPem }), /keytool -importkeystore/)
  })

  it("no keystore, a bad client auth, protocols and cipher suites", () => {
    assert.match(failure({}), /needs a keystore/)
    assert.match(failure({ "ssl.keystore.location": certs.serverPem, "ssl.client.auth": "sometimes" }), /ssl\.client\.auth/)
    const s = settings({
      "ssl.keystore.location": certs.serverPem,
      "ssl.client.auth": "required",
      "ssl.enabled.protocols": "TLSv1.3",
      "ssl.cipher.suites": "TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    })
    assert.deepStrictEqual([s.options.minVersion, s.options.maxVersion, s.options.rejectUnauthorized], ["TLSv1.3", "TLSv1.3", true])
    assert.strictEqual(s.options.ciphers, "ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_128_GCM_SHA256")
    assert.strictEqual(opensslCipher("TLS_RSA_WITH_AES_128_GCM_SHA256"), "AES128-GCM-SHA256")
    assert.strictEqual(opensslCipher("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"), "ECDHE-ECDSA-CHACHA20-POLY1305")
    assert.strictEqual(opensslCipher("ECDHE-RSA-AES128-SHA256"), "ECDHE-RSA-AES128-SHA256")
  })
})
