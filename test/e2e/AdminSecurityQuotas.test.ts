// ACLs and client quotas with real clients against a broker in this process. Without an authorizer the ACL
// calls fail as against a Kafka broker without one: kafka-python's describe_acls raises SecurityDisabledError and
// its create_acls reports each ACL failed with it; kafkajs's describeAcls rejects with SECURITY_DISABLED;
// @platformatic/kafka's describeAcls fails. Client quotas are set and read back with @platformatic/kafka's admin
// (AlterClientQuotas / DescribeClientQuotas), and a kafkajs producer above its producer_byte_rate is slowed down
// (answered with throttle_time_ms, its connection muted) while a producer with another client id is not. The
// broker measures quotas over 2 samples of 1 s here, so a throttle takes about a second, not ten.
import { Admin } from "@platformatic/kafka"
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } from "kafkajs"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { requireClient } from "../support/Installed.ts"
import { PYTHON, pythonHas } from "../support/PythonClients.ts"

let broker: RunningBroker
let admin: Admin

// kafkajs 2.2.4 arms a timer for `throttledUntil - Date.now()` while `throttledUntil` is still -1, which Node 24
// warns about (TimeoutNegativeWarning): client noise, left out here as in Kafkajs.test.ts; other warnings print.
const warningListeners = process.listeners("warning")

beforeAll(async () => {
  process.removeAllListeners("warning")
  process.on("warning", (warning) => {
    if (warning.name !== "TimeoutNegativeWarning") for (const listener of warningListeners) listener(warning)
  })
  broker = await startBroker({ config: { "quota.window.num": "2", "quota.window.size.seconds": "1" }, logLevel: "Error" })
  await broker.createTopic("quota-e2e", { partitions: 1 })
  admin = new Admin({ clientId: "platformatic-admin", bootstrapBrokers: [broker.bootstrap], retries: 0 })
})

afterAll(async () => {
  await admin?.close()
  await broker?.close()
  process.removeAllListeners("warning")
  for (const listener of warningListeners) process.on("warning", listener)
})

describe("ACLs without an authorizer", () => {
  const python = pythonHas("kafka")
  requireClient("kafka-python", python, "apt-get install -y python3-kafka")

  test.runIf(python)("kafka-python: describe_acls raises SecurityDisabledError, create_acls fails each ACL with it", async () => {
    const script = `
import json, sys
from kafka.admin import (KafkaAdminClient, ACL, ACLFilter, ResourcePattern, ResourcePatternFilter, ACLOperation,
                         ResourceType, ACLPermissionType, ACLResourcePatternType)
from kafka.errors import SecurityDisabledError
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], client_id="python-admin")
out = {}
try:
    admin.describe_acls(ACLFilter(principal=None, host="*", operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, None, ACLResourcePatternType.ANY)))
    out["describe"] = "no error"
except SecurityDisabledError as e:
    out["describe"] = type(e).__name__
acl = ACL(principal="User:alice", host="*", operation=ACLOperation.READ, permission_type=ACLPermissionType.ALLOW,
          resource_pattern=ResourcePattern(ResourceType.TOPIC, "quota-e2e", ACLResourcePatternType.LITERAL))
created = admin.create_acls([acl])
out["created"] = len(created["succeeded"])
out["failed"] = [error.__name__ for _, error in created["failed"]]
admin.close()
print(json.dumps(out))
`
    // Asynchronously: the broker answering it runs in this process.
    const { stdout } = await promisify(execFile)(PYTHON, ["-c", script, broker.bootstrap], { encoding: "utf8", timeout: 25_000 })
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toEqual({
      describe: "SecurityDisabledError",
      created: 0,
      failed: ["SecurityDisabledError"]
    })
  })

  test("kafkajs: describeAcls rejects with SECURITY_DISABLED", async () => {
    const kafka = new Kafka({ clientId: "kafkajs-admin", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } })
    const kafkaAdmin = kafka.admin()
    await kafkaAdmin.connect()
    try {
      await expect(kafkaAdmin.describeAcls({
        resourceType: AclResourceTypes.TOPIC,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
        resourceName: "quota-e2e",
        principal: "User:alice",
        host: "*"
      })).rejects.toMatchObject({ type: "SECURITY_DISABLED" })
    } finally {
      await kafkaAdmin.disconnect()
    }
  })

  test("@platformatic/kafka: describeAcls fails", async () => {
    await expect(admin.describeAcls({
      filter: { resourceType: 2, resourceName: null, resourcePatternType: 1, principal: null, host: null, operation: 1, permissionType: 1 }
    })).rejects.toThrow()
  })
})

describe("client quotas", () => {
  test("@platformatic/kafka sets quotas and reads them back; a bad key is refused", async () => {
    const altered = await admin.alterClientQuotas({
      entries: [
        { entities: [{ entityType: "client-id", entityName: "kafkajs-throttled" }], ops: [{ key: "producer_byte_rate", value: 102400, remove: false }] },
        { entities: [{ entityType: "user", entityName: null }], ops: [{ key: "consumer_byte_rate", value: 5e6, remove: false }] }
      ]
    })
    expect(altered.map((e) => e.errorCode)).toEqual([0, 0])
    const described = await admin.describeClientQuotas({ components: [{ entityType: "client-id", matchType: 0, match: "kafkajs-throttled" }], strict: true })
    expect(described).toEqual([{
      entity: [{ entityType: "client-id", entityName: "kafkajs-throttled" }],
      values: [{ key: "producer_byte_rate", value: 102400 }]
    }])
    const defaults = await admin.describeClientQuotas({ components: [{ entityType: "user", matchType: 1 }] })
    expect(defaults.map((e) => e.values)).toEqual([[{ key: "consumer_byte_rate", value: 5e6 }]])
    await expect(admin.alterClientQuotas({
      entries: [{ entities: [{ entityType: "client-id", entityName: "x" }], ops: [{ key: "connection_creation_rate", value: 5, remove: false }] }]
    })).rejects.toThrow()
  })

  test("kafkajs: a producer above its producer_byte_rate is slowed to it, one with another client id is not", async () => {
    const value = Buffer.alloc(100 * 1024, 7)
    const sendFour = async (clientId: string) => {
      const kafka = new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
      const producer = kafka.producer({ allowAutoTopicCreation: false })
      await producer.connect()
      try {
        const started = Date.now()
        for (let i = 0; i < 4; i++) await producer.send({ topic: "quota-e2e", acks: 1, messages: [{ value }] })
        return Date.now() - started
      } finally {
        await producer.disconnect()
      }
    }
    // The quota above: 100 KiB/s for client id "kafkajs-throttled".
    const free = await sendFour("kafkajs-free")
    const throttled = await sendFour("kafkajs-throttled")
    expect(free).toBeLessThan(1500)
    // 400 KiB at 100 KiB/s, measured over 1-2 s windows: the second send is throttled for about 1 s, the third
    // for about 2 s.
    expect(throttled).toBeGreaterThan(2000)
  }, 30_000)
})
