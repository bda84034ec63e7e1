// Listeners, TLS and SASL end to end with kcat (librdkafka): one broker with PLAINTEXT, SASL_SSL (PLAIN) and SSL
// (client certificates required) listeners. Each listener advertises itself; SASL/PLAIN over TLS produces and
// consumes; a wrong password is refused while the broker keeps serving everyone else; the SSL listener refuses a
// client without a certificate and names one with a certificate by its subject; a plaintext client on a TLS
// port is disconnected; AlterConfigs of a listener's keystore reloads it.
import { assert, describe, it } from "@effect/vitest"
import { createRequire } from "node:module"
import { connect } from "node:net"
import { ConfigResourceTypes, Kafka, logLevel } from "kafkajs"
import { afterAll, beforeAll, expect } from "vitest"
import { makeCertificates, type Certificates } from "../support/Certificates.ts"
import { makeLogDir, startBroker, writeTopics, type BrokerProcess } from "../support/BrokerProcess.ts"
import { requireClient } from "../support/Installed.ts"
import { kcat, kcatInstalled } from "../support/Kcat.ts"
import { PYTHON, pythonHas } from "../support/PythonClients.ts"

const portOf = (output: string, name: string) => {
  const m = new RegExp(`listening on [^ ]*:(\\d+) \\(${name}[,)]`).exec(output)
  if (m === null) throw new Error(`no ${name} listener in:\n${output}`)
  return Number(m[1])
}

describe("security: listeners, TLS, SASL (kcat)", () => {
  let broker: BrokerProcess | undefined
  let certs: Certificates
  const ports = { plain: 0, saslSsl: 0, ssl: 0 }

  beforeAll(async () => {
    if (!kcatInstalled) return
    certs = makeCertificates()
    const logDir = makeLogDir()
    await writeTopics(logDir, { orders: 1 })
    broker = await startBroker({
      logDir,
      properties: {
        "listeners": "PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0,CONTROLLER://127.0.0.1:9093",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": certs.serverPem,
        "listener.name.ssl.ssl.client.auth": "required",
        "listener.name.ssl.ssl.truststore.type": "PEM",
        "listener.name.ssl.ssl.truststore.location": certs.ca,
        "listener.name.sasl_ssl.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_ssl.plain.sasl.jaas.config":
          `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret" user_bob="bob-secret";`
      }
    })
    // Every listener logs its line before the broker is ready.
    await new Promise((r) => setTimeout(r, 300))
    ports.plain = portOf(broker.output(), "PLAINTEXT")
    ports.saslSsl = portOf(broker.output(), "SASL_SSL")
    ports.ssl = portOf(broker.output(), "SSL")
  }, 30_000)

  afterAll(async () => {
    await broker?.stop()
  })

  requireClient("kcat", kcatInstalled, "apt-get install -y kcat")

  const sasl = (user: string, password: string) => [
    "-b", `127.0.0.1:${ports.saslSsl}`,
    "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=PLAIN",
    "-X", `sasl.username=${user}`, "-X", `sasl.password=${password}`,
    "-X", `ssl.ca.location=${certs.ca}`
  ]

  it.runIf(kcatInstalled)("each listener advertises its own address", async () => {
    assert.match(await kcat(["-b", `127.0.0.1:${ports.plain}`, "-L"]), new RegExp(`broker 1 at 127\\.0\\.0\\.1:${ports.plain}`))
    assert.match(await kcat([...sasl("alice", "alice-secret"), "-L"]), new RegExp(`broker 1 at 127\\.0\\.0\\.1:${ports.saslSsl}`))
  })

  it.runIf(kcatInstalled)("SASL_SSL with PLAIN produces and consumes; the principal is logged", async () => {
    await kcat([...sasl("alice", "alice-secret"), "-P", "-t", "orders", "-p", "0"], "one\ntwo\nthree\n")
    const out = await kcat([...sasl("bob", "bob-secret"), "-C", "-t", "orders", "-p", "0", "-o", "beginning", "-e", "-q"])
    assert.deepStrictEqual(out.trim().split("\n"), ["one", "two", "three"])
    assert.include(broker!.output(), "authenticated as User:alice")
  })

  it.runIf(kcatInstalled)("a wrong password is refused, and the broker keeps serving others", async () => {
    const refused = await kcat([...sasl("alice", "wrong-password"), "-L", "-m", "5"], "", 20_000).then(() => "", (e: Error) => e.message)
    assert.match(refused, /Authentication failed|SASL authentication error|Invalid username or password/i)
    assert.notInclude(broker!.output(), "wrong-password")
    assert.notInclude(broker!.output(), "alice-secret")
    assert.match(await kcat([...sasl("alice", "alice-secret"), "-L"]), /topic "orders"/)
    assert.match(await kcat(["-b", `127.0.0.1:${ports.plain}`, "-L"]), /topic "orders"/)
  })

  it.runIf(kcatInstalled)("mTLS: no certificate is refused; with one, its subject is the principal", async () => {
    const tls = ["-b", `127.0.0.1:${ports.ssl}`, "-X", "security.protocol=SSL", "-X", `ssl.ca.location=${certs.ca}`]
    const refused = await kcat([...tls, "-L", "-m", "5"], "", 20_000).then(() => "", (e: Error) => e.message)
    assert.notStrictEqual(refused, "")
    const listing = await kcat([...tls, "-X", `ssl.certificate.location=${certs.clientCert}`, "-X", `ssl.key.location=${certs.clientKey}`, "-L"])
    assert.match(listing, new RegExp(`broker 1 at 127\\.0\\.0\\.1:${ports.ssl}`))
    assert.include(broker!.output(), "TLS client certificate: User:CN=client,OU=eng,O=acme")
  })

  it.runIf(kcatInstalled)("SIGHUP reloads the certificates; TLS clients still connect", async () => {
    process.kill(broker!.pid, "SIGHUP")
    const until = Date.now() + 10_000
    while (!broker!.output().includes("TLS certificates reloaded") && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    assert.include(broker!.output(), "TLS certificates reloaded")
    assert.match(await kcat([...sasl("alice", "alice-secret"), "-L"]), /topic "orders"/)
  })

  it.runIf(kcatInstalled)("a plaintext client on a TLS port is disconnected; the broker keeps running", async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const socket = connect(ports.saslSsl, "127.0.0.1", () => {
        // An ApiVersions v0 request in plaintext.
        const frame = Buffer.from([0, 0, 0, 14, 0, 18, 0, 0, 0, 0, 0, 1, 0, 4, 116, 101, 115, 116])
        socket.write(frame)
      })
      socket.on("error", () => {})
      socket.on("close", () => resolve(true))
      setTimeout(() => resolve(false), 10_000)
    })
    assert.isTrue(closed)
    assert.isTrue(broker!.alive())
    assert.match(await kcat(["-b", `127.0.0.1:${ports.plain}`, "-L"]), /topic "orders"/)
  })

  it.runIf(kcatInstalled)("AlterConfigs of a listener's keystore reloads it; a keystore that does not load is refused", async () => {
    const next = makeCertificates() // another CA: a client trusting only it reaches the listener once reloaded
    const admin = new Kafka({ clientId: "tls-reload", brokers: [`127.0.0.1:${ports.plain}`], logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    const alter = (value: string) =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.BROKER, name: "1", configEntries: [{ name: "listener.name.sasl_ssl.ssl.keystore.location", value }] }]
      })
    try {
      await expect(alter("/nonexistent/keystore.pem")).rejects.toMatchObject({ type: "INVALID_CONFIG" })
      await alter(next.serverPem)
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: "1" }] })
      const entry = described.resources[0]!.configEntries.find((e) => e.configName === "listener.name.sasl_ssl.ssl.keystore.location")
      assert.deepInclude(entry, { configValue: next.serverPem, readOnly: false, configSource: 2 }) // DYNAMIC_BROKER_CONFIG
    } finally {
      await admin.disconnect()
    }
    assert.include(broker!.output(), "TLS certificates reloaded")
    const trusting = (ca: string) => [...sasl("alice", "alice-secret").slice(0, -2), "-X", `ssl.ca.location=${ca}`]
    assert.match(await kcat([...trusting(next.ca), "-L"]), /topic "orders"/)
    const refused = await kcat([...trusting(certs.ca), "-L", "-m", "5"], "", 20_000).then(() => "", (e: Error) => e.message)
    assert.notStrictEqual(refused, "")
    // The SSL listener has no listener-prefixed keystore: it still uses the file's.
    const tls = ["-b", `127.0.0.1:${ports.ssl}`, "-X", "security.protocol=SSL", "-X", `ssl.ca.location=${certs.ca}`]
    assert.match(await kcat([...tls, "-X", `ssl.certificate.location=${certs.clientCert}`, "-X", `ssl.key.location=${certs.clientKey}`, "-L"]), /topic "orders"/)
  }, 60_000)
})

describe("security: SCRAM over SASL_SSL (format --add-scram, kcat, kafkajs), across a restart", () => {
  let broker: BrokerProcess | undefined
  let certs: Certificates
  let port = 0

  afterAll(async () => {
    await broker?.stop()
  })

  requireClient("kcat", kcatInstalled, "apt-get install -y kcat")

  const scram = (mechanism: string, user: string, password: string) => [
    "-b", `127.0.0.1:${port}`,
    "-X", "security.protocol=SASL_SSL", "-X", `sasl.mechanisms=${mechanism}`,
    "-X", `sasl.username=${user}`, "-X", `sasl.password=${password}`,
    "-X", `ssl.ca.location=${certs.ca}`
  ]

  it.runIf(kcatInstalled)("users added by format log in with SCRAM-SHA-256 and -512, also after a restart; a wrong password is refused", async () => {
    certs = makeCertificates()
    const logDir = makeLogDir()
    await writeTopics(logDir, { events: 1 })
    const properties = {
      "listeners": "SASL_SSL://127.0.0.1:0,CONTROLLER://127.0.0.1:9093",
      "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
      "ssl.keystore.type": "PEM",
      "ssl.keystore.location": certs.serverPem,
      "sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512"
    }
    // A first start writes the config file; format then adds the users to the existing log dir.
    broker = await startBroker({ logDir, properties })
    await broker.stop()
    const { execFileSync } = await import("node:child_process")
    const formatted = execFileSync("./your_program.sh", [
      "format", "-c", broker.configPath,
      "--add-scram", "SCRAM-SHA-256=[name=bob,password=bob-secret]",
      "--add-scram", "SCRAM-SHA-512=[name=carol,password=carol-secret,iterations=8192]"
    ]).toString()
    assert.include(formatted, "added SCRAM-SHA-256 credentials for bob")
    assert.notInclude(formatted, "bob-secret")

    for (const round of [1, 2]) {
      broker = await startBroker({ logDir, properties })
      port = broker.port
      await kcat([...scram("SCRAM-SHA-256", "bob", "bob-secret"), "-P", "-t", "events", "-p", "0"], `round-${round}\n`)
      const out = await kcat([...scram("SCRAM-SHA-512", "carol", "carol-secret"), "-C", "-t", "events", "-p", "0", "-o", "beginning", "-e", "-q"])
      assert.deepStrictEqual(out.trim().split("\n"), round === 1 ? ["round-1"] : ["round-1", "round-2"])
      const refused = await kcat([...scram("SCRAM-SHA-256", "bob", "not-it"), "-L", "-m", "5"], "", 20_000).then(() => "", (e: Error) => e.message)
      assert.notStrictEqual(refused, "")
      assert.include(broker.output(), "authenticated as User:carol")
      if (round === 1) await broker.stop()
    }

    // kafkajs over TLS with SCRAM-SHA-256.
    const { Kafka, logLevel } = await import("kafkajs")
    const { readFileSync } = await import("node:fs")
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${port}`],
      ssl: { ca: [readFileSync(certs.ca, "utf8")] },
      sasl: { mechanism: "scram-sha-256", username: "bob", password: "bob-secret" },
      logLevel: logLevel.NOTHING
    })
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: "events", messages: [{ value: "from-kafkajs" }] })
    await producer.disconnect()
    const admin = kafka.admin()
    await admin.connect()
    const offsets = await admin.fetchTopicOffsets("events")
    await admin.disconnect()
    assert.strictEqual(offsets[0]!.high, "3")
  }, 120_000)
})

describe("security: SASL with @platformatic/kafka and confluent-kafka (python)", () => {
  let broker: BrokerProcess | undefined
  let certs: Certificates
  const ports = { saslPlain: 0, saslSsl: 0 }

  beforeAll(async () => {
    certs = makeCertificates()
    const logDir = makeLogDir()
    await writeTopics(logDir, { logs: 1 })
    const properties = {
      "listeners": "SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,CONTROLLER://127.0.0.1:9093",
      "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
      "ssl.keystore.type": "PEM",
      "ssl.keystore.location": certs.serverPem,
      "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config":
        `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`,
      "listener.name.sasl_ssl.plain.sasl.jaas.config":
        `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`
    }
    broker = await startBroker({ logDir, properties })
    await broker.stop()
    const { execFileSync } = await import("node:child_process")
    execFileSync("./your_program.sh", [
      "format", "-c", broker.configPath,
      "--add-scram", "SCRAM-SHA-256=[name=bob,password=bob-secret]",
      "--add-scram", "SCRAM-SHA-512=[name=bob,password=bob-secret]"
    ])
    broker = await startBroker({ logDir, properties })
    await new Promise((r) => setTimeout(r, 300))
    ports.saslPlain = portOf(broker.output(), "SASL_PLAINTEXT")
    ports.saslSsl = portOf(broker.output(), "SASL_SSL")
  }, 60_000)

  afterAll(async () => {
    await broker?.stop()
  })

  it.each(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const)("@platformatic/kafka with SASL %s produces", async (mechanism) => {
    const { Producer, stringSerializers } = await import("@platformatic/kafka")
    const user = mechanism === "PLAIN" ? "alice" : "bob"
    const producer = new Producer({
      clientId: "sec-test",
      bootstrapBrokers: [`127.0.0.1:${ports.saslPlain}`],
      sasl: { mechanism, username: user, password: `${user}-secret` },
      serializers: stringSerializers
    })
    try {
      const result = await producer.send({ messages: [{ topic: "logs", key: "k", value: mechanism, partition: 0 }] })
      assert.isAtLeast(result.offsets?.length ?? 0, 1)
    } finally {
      await producer.close()
    }
    assert.include(broker!.output(), `authenticated as User:${user}`)
  }, 30_000)

  const ckjs = (() => {
    try {
      return createRequire(new URL("../clients/confluent/package.json", import.meta.url))("@confluentinc/kafka-javascript") as {
        KafkaJS: { Kafka: new (c: Record<string, unknown>) => { producer(): { connect(): Promise<void>; send(r: unknown): Promise<unknown>; disconnect(): Promise<void> } }; logLevel: { NOTHING: number } }
      }
    } catch {
      return undefined
    }
  })()

  it.runIf(ckjs !== undefined).each(["plain", "scram-sha-256", "scram-sha-512"])("@confluentinc/kafka-javascript with SASL %s produces", async (mechanism) => {
    const user = mechanism === "plain" ? "alice" : "bob"
    const kafka = new ckjs!.KafkaJS.Kafka({
      kafkaJS: {
        brokers: [`127.0.0.1:${ports.saslPlain}`],
        sasl: { mechanism, username: user, password: `${user}-secret` },
        logLevel: ckjs!.KafkaJS.logLevel.NOTHING
      }
    })
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: "logs", messages: [{ value: `ckjs-${mechanism}` }] })
    await producer.disconnect()
  }, 60_000)

  it.runIf(pythonHas("kafka")).each(["PLAIN", "SCRAM-SHA-256"])("kafka-python 2.0.2 (v0 handshake, raw tokens) with %s", async (mechanism) => {
    const user = mechanism === "PLAIN" ? "alice" : "bob"
    const script = `
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers="127.0.0.1:${ports.saslPlain}", security_protocol="SASL_PLAINTEXT", sasl_mechanism="${mechanism}",
                  sasl_plain_username="${user}", sasl_plain_password="${user}-secret", request_timeout_ms=20000)
m = p.send("logs", b"kafka-python-${mechanism}", partition=0).get(timeout=20)
p.close()
print(m.offset)
`
    const { execFileSync } = await import("node:child_process")
    const offset = Number(execFileSync(PYTHON, ["-c", script], { timeout: 60_000 }).toString().trim())
    assert.isAtLeast(offset, 0)
  }, 60_000)

  it.runIf(pythonHas("confluent_kafka")).each(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])(
    "confluent-kafka (librdkafka 2.0.2) over SASL_SSL with %s",
    async (mechanism) => {
      const user = mechanism === "PLAIN" ? "alice" : "bob"
      const script = `
import json, sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
conf = {"bootstrap.servers": "127.0.0.1:${ports.saslSsl}", "security.protocol": "SASL_SSL", "sasl.mechanisms": "${mechanism}",
        "sasl.username": "${user}", "sasl.password": "${user}-secret", "ssl.ca.location": "${certs.ca}"}
p = Producer(conf)
errors = []
p.produce("logs", b"py-${mechanism}", partition=0, on_delivery=lambda e, m: errors.append(e))
p.flush(20)
md = AdminClient(conf).list_topics(timeout=10)
print(json.dumps({"errors": [str(e) for e in errors if e is not None], "delivered": len(errors), "topics": sorted(md.topics)}))
`
      const { execFileSync } = await import("node:child_process")
      const out = JSON.parse(execFileSync(PYTHON, ["-c", script], { timeout: 60_000 }).toString()) as { errors: Array<string>; delivered: number; topics: Array<string> }
      assert.deepStrictEqual(out.errors, [])
      assert.strictEqual(out.delivered, 1)
      assert.include(out.topics, "logs")
    },
    60_000
  )
})
