// TLS server options from Kafka's `ssl.*` keys of one listener. Keystores: PEM (a file holding the private key and
// the certificate chain, or the inline `ssl.keystore.key` / `ssl.keystore.certificate.chain`; `ssl.key.password`
// decrypts an encrypted key) and PKCS12 (`ssl.keystore.password`). JKS, Kafka's default type, is Java's own
// format: it is refused at start-up with the keytool command that converts it. Truststores: PEM, or PKCS12 read
// through the `openssl` command (Node reads no certificate-only PKCS12). `ssl.client.auth` none/requested/required,
// `ssl.enabled.protocols` (TLSv1.2, TLSv1.3) and `ssl.cipher.suites` (IANA names, as Kafka's, or OpenSSL's).
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import type * as Tls from "node:tls"
import { createSecureContext } from "node:tls"
import { InvalidConfig } from "../../services/config/BrokerConfig.ts"

export type ClientAuth = "none" | "requested" | "required"

export interface TlsSettings {
  readonly options: Tls.TlsOptions
  readonly clientAuth: ClientAuth
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

const pemBlocks = (text: string, kind: (label: string) => boolean) =>
  [...text.matchAll(PEM_BLOCK)].filter((m) => kind(m[1]!)).map((m) => m[0]).join("\n")

const JKS_MAGIC = 0xfeedfeed

/** `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` (Kafka's, Java's) as OpenSSL names it: `ECDHE-RSA-AES128-GCM-SHA256`. */
export const opensslCipher = (name: string): string => {
  const m = /^(?:TLS|SSL)_(.+)_WITH_(.+)$/.exec(name)
  if (m === null) return name // TLS 1.3 suites (TLS_AES_128_GCM_SHA256) and OpenSSL names pass as they are
  const kx = m[1] === "RSA" ? "" : m[1]!.replace(/_/g, "-") + "-"
  let cipher = m[2]!.replace(/^AES_(\d+)_/, "AES$1-").replace(/_/g, "-")
  if (cipher.startsWith("CHACHA20-POLY1305")) cipher = "CHACHA20-POLY1305"
  if (/-CBC-SHA$/.test(cipher)) cipher = cipher.replace(/-CBC-SHA$/, "-SHA")
  return (kx + cipher).replace("-CBC-", "-")
}

/** Reads the TLS settings of a listener; fails with one line naming the key (and never a password). */
export const tlsSettings = (listener: string, ssl: ReadonlyMap<string, string>): TlsSettings => {
  const fail = (key: string, message: string): never => {
    throw new InvalidConfig({ message: `listener ${listener}: ${key}: ${message}` })
  }
  const read = (key: string, path: string) => {
    try {
      return readFileSync(path)
    } catch (e) {
      return fail(key, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
    }
  }
  const options: Tls.TlsOptions = {}
  const location = ssl.get("ssl.keystore.location")
  const inlineKey = ssl.get("ssl.keystore.key")
  const inlineChain = ssl.get("ssl.keystore.certificate.chain")
  const declared = ssl.get("ssl.keystore.type")?.toUpperCase()
  const jksHint = (path: string) =>
    `a JKS keystore cannot be read; convert it to PKCS12 with: keytool -importkeystore -srckeystore ${path} -destkeystore ${path.replace(/\.jks$/i, "")}.p12 -deststoretype PKCS12, then set ssl.keystore.type=PKCS12 and ssl.keystore.location to the .p12 file`
  if (location !== undefined) {
    const bytes = read("ssl.keystore.location", location)
    const isPem = bytes.subarray(0, 64).toString("latin1").includes("-----BEGIN")
    const isJks = bytes.length >= 4 && bytes.readUInt32BE(0) === JKS_MAGIC
    const type = declared ?? (isPem ? "PEM" : isJks ? "JKS" : "PKCS12")
    if (type === "JKS" || isJks) fail("ssl.keystore.type", jksHint(location))
    if (type === "PEM") {
      const text = bytes.toString("utf8")
      options.key = pemBlocks(text, (l) => l.endsWith("PRIVATE KEY"))
      options.cert = pemBlocks(text, (l) => l === "CERTIFICATE")
      if (options.key === "") fail("ssl.keystore.location", `no private key in ${location}`)
      if (options.cert === "") fail("ssl.keystore.location", `no certificate in ${location}`)
      const pw = ssl.get("ssl.key.password")
      if (pw !== undefined) options.passphrase = pw
    } else if (type === "PKCS12") {
      options.pfx = bytes
      const pw = ssl.get("ssl.keystore.password") ?? ssl.get("ssl.key.password")
      if (pw !== undefined) options.passphrase = pw
    } else fail("ssl.keystore.type", `expected PEM, PKCS12 or JKS, got ${type}`)
  } else if (inlineKey !== undefined || inlineChain !== undefined) {
    if (inlineKey === undefined) fail("ssl.keystore.key", "required with ssl.keystore.certificate.chain")
    if (inlineChain === undefined) fail("ssl.keystore.certificate.chain", "required with ssl.keystore.key")
    options.key = inlineKey!
    options.cert = inlineChain!
    const pw = ssl.get("ssl.key.password")
    if (pw !== undefined) options.passphrase = pw
  } else {
    fail("ssl.keystore.location", "an SSL listener needs a keystore (ssl.keystore.location, or ssl.keystore.key and ssl.keystore.certificate.chain)")
  }

  const trustLocation = ssl.get("ssl.truststore.location")
  const trustInline = ssl.get("ssl.truststore.certificates")
  if (trustLocation !== undefined) {
    const bytes = read("ssl.truststore.location", trustLocation)
    const isPem = bytes.subarray(0, 64).toString("latin1").includes("-----BEGIN")
    const isJks = bytes.length >= 4 && bytes.readUInt32BE(0) === JKS_MAGIC
    const type = ssl.get("ssl.truststore.type")?.toUpperCase() ?? (isPem ? "PEM" : isJks ? "JKS" : "PKCS12")
    if (type === "JKS" || isJks) fail("ssl.truststore.type", jksHint(trustLocation).replace("keystore", "truststore"))
    if (type === "PEM") options.ca = pemBlocks(bytes.toString("utf8"), (l) => l === "CERTIFICATE")
    else if (type === "PKCS12") {
      try {
        // The password goes through the environment, not the command line (which other users may see).
        const out = execFileSync("openssl", ["pkcs12", "-in", trustLocation, "-nokeys", "-passin", "env:KAFKA_TRUSTSTORE_PASSWORD"], {
          env: { ...process.env, KAFKA_TRUSTSTORE_PASSWORD: ssl.get("ssl.truststore.password") ?? "" },
          stdio: ["ignore", "pipe", "ignore"]
        }).toString("utf8")
        options.ca = pemBlocks(out, (l) => l === "CERTIFICATE")
      } catch {
        fail("ssl.truststore.location", `cannot read the PKCS12 truststore ${trustLocation} (wrong ssl.truststore.password?)`)
      }
    } else fail("ssl.truststore.type", `expected PEM or PKCS12, got ${type}`)
  } else if (trustInline !== undefined) {
    options.ca = trustInline
  }

  const clientAuth = (ssl.get("ssl.client.auth") ?? "none").toLowerCase()
  if (clientAuth !== "none" && clientAuth !== "requested" && clientAuth !== "required") {
    fail("ssl.client.auth", `expected none, requested or required, got ${clientAuth}`)
  }
  if (clientAuth !== "none") {
    options.requestCert = true
    options.rejectUnauthorized = clientAuth === "required"
  }

  const protocols = (ssl.get("ssl.enabled.protocols") ?? "TLSv1.2,TLSv1.3").split(",").map((s) => s.trim()).filter((s) => s !== "")
  const known: Array<Tls.SecureVersion> = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
  const enabled = protocols.map((p) => {
    const v = known.find((k) => k.toLowerCase() === p.toLowerCase())
    return v === undefined ? fail("ssl.enabled.protocols", `unknown protocol ${p}`) : v
  })
  if (enabled.length === 0) fail("ssl.enabled.protocols", "no protocol enabled")
  const sorted = enabled.map((v) => known.indexOf(v)).sort()
  options.minVersion = known[sorted[0]!]!
  options.maxVersion = known[sorted[sorted.length - 1]!]!

  const suites = ssl.get("ssl.cipher.suites")
  if (suites !== undefined && suites.trim() !== "") {
    const names = suites.split(",").map((s) => opensslCipher(s.trim())).filter((s) => s !== "")
    // OpenSSL keeps TLS 1.3 suites apart from the older ones.
    const v13 = names.filter((n) => n.startsWith("TLS_"))
    const older = names.filter((n) => !n.startsWith("TLS_"))
    // Node takes TLS 1.3 suites in the same list and hands them to OpenSSL apart.
    options.ciphers = [...older, ...v13].join(":")
  }
  try {
    createSecureContext(options)
  } catch (e) {
    const detail = e instanceof Error ? e.message.replace(/\s+/g, " ") : String(e)
    fail(location !== undefined ? "ssl.keystore.location" : "ssl.keystore.key", `cannot load the keystore (${detail}; wrong ssl.key.password or ssl.keystore.password?)`)
  }
  return { options, clientAuth: clientAuth as ClientAuth }
}
