// Certificates for TLS tests, made with the `openssl` command into a temporary directory: a CA, a server
// certificate for localhost / 127.0.0.1, and a client certificate (CN=client,OU=eng,O=acme) signed by the CA.
import { execFileSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface Certificates {
  readonly dir: string
  readonly ca: string
  /** Key and certificate in one PEM file (Kafka's PEM keystore). */
  readonly serverPem: string
  readonly serverKey: string
  readonly serverCert: string
  readonly clientKey: string
  readonly clientCert: string
}

const openssl = (dir: string, args: ReadonlyArray<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" })

export const makeCertificates = (): Certificates => {
  const dir = mkdtempSync(join(tmpdir(), "broker-certs-"))
  openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca"])
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
  for (const [name, subject, ext] of [["server", "/CN=localhost", ["-extfile", "server.ext"]], ["client", "/O=acme/OU=eng/CN=client", []]] as const) {
    openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject])
    openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", ...ext])
  }
  execFileSync("sh", ["-c", "cat server.key server.pem > server-keystore.pem"], { cwd: dir })
  return {
    dir,
    ca: join(dir, "ca.pem"),
    serverPem: join(dir, "server-keystore.pem"),
    serverKey: join(dir, "server.key"),
    serverCert: join(dir, "server.pem"),
    clientKey: join(dir, "client.key"),
    clientCert: join(dir, "client.pem")
  }
}
