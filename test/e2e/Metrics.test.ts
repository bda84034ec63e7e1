// `/metrics` and the console's API end to end: an embedded broker with `console: true`, kafkajs producing and a
// kafkajs consumer group reading part of it; the scrape, parsed by a Prometheus parser, counts what was produced
// and tells the lag the group has left. Then a broker process with a SASL listener: its console asks for the
// broker's SASL users and refuses anyone else.
import { Kafka, logLevel } from "kafkajs"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { startBroker as startProcess, type BrokerProcess } from "../support/BrokerProcess.ts"
import { until } from "../support/Until.ts"

let broker: RunningBroker

beforeAll(async () => {
  broker = await startBroker({ console: true })
})

afterAll(async () => {
  await broker?.close()
})

const scrape = async () => {
  const response = await fetch(`${broker.consoleUrl}/metrics`)
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/)
  const families = new Map(parsePrometheusTextFormat(await response.text()).map((f) => [f.name, f]))
  const value = (name: string, labels: Record<string, string> = {}) => {
    const m = families.get(name)?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v))
    return m?.value === undefined ? undefined : Number(m.value)
  }
  return Object.assign(value, { type: (name: string) => families.get(name)?.type })
}

describe("/metrics with kafkajs", () => {
  test("counters equal what was produced; the lag is what the group has not consumed", async () => {
    const kafka = new Kafka({ clientId: "metrics-e2e", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
    await broker.createTopic("events", { partitions: 1 })
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: "events", messages: Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `value-${i}` })) })

    const consumer = kafka.consumer({ groupId: "readers" })
    await consumer.connect()
    await consumer.subscribe({ topics: ["events"], fromBeginning: true })
    let seen = 0
    await consumer.run({ eachMessage: async () => void seen++ })
    await until("6 records consumed", () => seen === 6)
    await consumer.disconnect() // commits what it read
    await producer.send({ topic: "events", messages: Array.from({ length: 4 }, (_, i) => ({ value: `later-${i}` })) })
    await producer.disconnect()

    const value = await scrape()
    expect(value("kafka_server_brokertopicmetrics_messagesin_total", { topic: "events" })).toBe(10)
    expect(value("kafka_server_brokertopicmetrics_bytesin_total", { topic: "events" })).toBeGreaterThan(0)
    expect(value("kafka_server_brokertopicmetrics_bytesout_total", { topic: "events" })).toBeGreaterThan(0)
    expect(value("kafka_log_log_logendoffset", { topic: "events", partition: "0" })).toBe(10)
    expect(value("kafka_log_log_size", { topic: "events", partition: "0" })).toBeGreaterThan(0)
    expect(value("kafka_consumergroup_lag", { group: "readers", topic: "events", partition: "0" })).toBe(4)
    expect(value("kafka_network_requestmetrics_requests_total", { request: "Produce" })).toBe(2)
    expect(value.type("kafka_network_requestmetrics_totaltimems")).toBe("HISTOGRAM")
    expect(value("kafka_server_socket_server_connections")).toBeGreaterThanOrEqual(0)
    expect(value("process_resident_memory_bytes")).toBeGreaterThan(1e6)

    const groups = await (await fetch(`${broker.consoleUrl}/api/groups`)).json()
    expect(groups).toMatchObject([{ groupId: "readers", state: "Empty", lag: 4 }])
  }, 60_000)

  test("an unknown API path answers JSON 404; a bad, oversized or mistyped body 400; the console keeps serving", async () => {
    const missing = await fetch(`${broker.consoleUrl}/api/nothing-here`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: "no such API" })
    const bad = await fetch(`${broker.consoleUrl}/api/topics`, { method: "POST", body: "not json" })
    expect(bad.status).toBe(400)
    const post = (path: string, body: string) => fetch(`${broker.consoleUrl}${path}`, { method: "POST", body })
    // Too large, not an object, fields of the wrong type, an unknown mode: 400 with what was expected.
    const huge = await post("/api/topics/events/messages", JSON.stringify({ value: "x".repeat(5 * 1024 * 1024) }))
    expect([huge.status, ((await huge.json()) as { error: string }).error]).toEqual([400, "expected a JSON object of at most 4194304 bytes"])
    expect((await post("/api/topics", "[1,2]")).status).toBe(400)
    expect(await (await post("/api/topics", JSON.stringify({ name: "t2", partitions: "3" }))).json()).toEqual({ error: "partitions: expected a positive integer" })
    expect(await (await post("/api/topics/events/messages", JSON.stringify({ value: 5 }))).json()).toEqual({ error: "value: expected a string or null" })
    expect((await fetch(`${broker.consoleUrl}/api/topics/events/messages?from=sideways`)).status).toBe(400)
    // And the broker still serves.
    expect((await fetch(`${broker.consoleUrl}/api/topics`)).status).toBe(200)
    const exists = await fetch(`${broker.consoleUrl}/api/topics`, { method: "POST", body: JSON.stringify({ name: "events" }) })
    expect(exists.status).toBe(409)
    expect(await exists.json()).toMatchObject({ errorCode: 36 })
  })
})

describe("the console of a broker with SASL", () => {
  let secured: BrokerProcess | undefined
  afterAll(async () => {
    await secured?.stop()
  })

  test("asks for the broker's SASL users (PLAIN from the JAAS config) and refuses a wrong password", async () => {
    secured = await startProcess({
      properties: {
        "listeners": "SASL_PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:9093",
        "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
        "sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config":
          `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`,
        "console.listener": "http://127.0.0.1:0"
      }
    })
    await until("the console line", () => /console listening on (http:\/\/[^\s"]+)/.test(secured!.output()), 10_000)
    const url = /console listening on (http:\/\/[^\s"]+)/.exec(secured.output())![1]!
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` })
    const anonymous = await fetch(`${url}/api/topics`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic /)
    expect((await fetch(`${url}/metrics`, { headers: basic("alice", "wrong") })).status).toBe(401)
    const ok = await fetch(`${url}/api/topics`, { headers: basic("alice", "alice-secret") })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual([])
    expect(secured.output()).not.toContain("alice-secret")
  }, 30_000)
})
