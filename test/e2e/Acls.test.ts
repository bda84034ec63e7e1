// ACLs end to end with kafkajs 2.2.4 (and @platformatic/kafka's admin), in process, data on disk. A first broker with the StandardAuthorizer and
// super.users=User:ANONYMOUS (this listener has no authentication, so every client is User:ANONYMOUS): kafkajs's
// admin creates topics, ACLs, describes and deletes them; records are produced. The same log dir then serves a
// second broker where ANONYMOUS is no super user and holds only the ACLs made before (prefixed READ on "shared-"
// topics and "readers-" groups): a kafkajs consumer reads those topics; any other topic answers
// TOPIC_AUTHORIZATION_FAILED, producing too. Then the same for SASL users of a broker process.
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } from "kafkajs"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Admin } from "@platformatic/kafka"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { makeLogDir, startBroker as startProcess, type BrokerProcess } from "../support/BrokerProcess.ts"

const AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"

let logDir: string
let broker: RunningBroker

const start = (superUsers: boolean) =>
  startBroker({
    storage: "disk",
    logDir,
    logLevel: "Error",
    config: {
      "authorizer.class.name": AUTHORIZER,
      ...(superUsers ? { "super.users": "User:ANONYMOUS" } : {}),
      "group.initial.rebalance.delay.ms": "0"
    }
  })

const client = () => new Kafka({ clientId: "acl-e2e", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } })

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), "broker-acl-e2e-"))
  broker = await start(true)
})

afterAll(async () => {
  await broker?.close()
  rmSync(logDir, { recursive: true, force: true })
})

const readAcl = (resourceType: AclResourceTypes, resourceName: string) => ({
  resourceType,
  resourceName,
  resourcePatternType: ResourcePatternTypes.PREFIXED,
  principal: "User:ANONYMOUS",
  host: "*",
  operation: AclOperationTypes.READ,
  permissionType: AclPermissionTypes.ALLOW
})

describe("ACLs with kafkajs", () => {
  test("a super user creates, describes and deletes ACLs with the admin client", async () => {
    const admin = client().admin()
    await admin.connect()
    try {
      await admin.createTopics({ topics: [{ topic: "shared-orders", numPartitions: 1 }, { topic: "secret", numPartitions: 1 }] })
      await admin.createAcls({
        acl: [
          readAcl(AclResourceTypes.TOPIC, "shared-"),
          readAcl(AclResourceTypes.GROUP, "readers-"),
          { ...readAcl(AclResourceTypes.TOPIC, "temp"), resourcePatternType: ResourcePatternTypes.LITERAL }
        ]
      })
      const described = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY
      })
      expect(described.resources.map((r) => r.resourceName).sort()).toEqual(["readers-", "shared-", "temp"])
      const matching = await admin.describeAcls({
        resourceType: AclResourceTypes.TOPIC,
        resourceName: "shared-orders",
        resourcePatternType: ResourcePatternTypes.MATCH,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY
      })
      expect(matching.resources.map((r) => r.resourceName)).toEqual(["shared-"])
      const deleted = await admin.deleteAcls({
        filters: [{
          resourceType: AclResourceTypes.TOPIC,
          resourceName: "temp",
          resourcePatternType: ResourcePatternTypes.LITERAL,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY
        }]
      })
      expect(deleted.filterResponses[0]!.matchingAcls.map((a) => a.resourceName)).toEqual(["temp"])
      const producer = client().producer()
      await producer.connect()
      await producer.send({ topic: "shared-orders", messages: [{ value: "a" }, { value: "b" }] })
      await producer.send({ topic: "secret", messages: [{ value: "hidden" }] })
      await producer.disconnect()
    } finally {
      await admin.disconnect()
    }
  }, 30_000)

  test("@platformatic/kafka's admin creates, describes and deletes ACLs too", async () => {
    const admin = new Admin({ clientId: "acl-e2e-platformatic", bootstrapBrokers: [broker.bootstrap], retries: 0 })
    try {
      const acl = {
        resourceType: AclResourceTypes.GROUP,
        resourceName: "platformatic-",
        resourcePatternType: ResourcePatternTypes.PREFIXED,
        principal: "User:carol",
        host: "*",
        operation: AclOperationTypes.DELETE,
        permissionType: AclPermissionTypes.DENY
      } as const
      await admin.createAcls({ creations: [acl] })
      const filter = {
        resourceType: AclResourceTypes.GROUP,
        resourceName: null,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal: "User:carol",
        host: null,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY
      } as const
      const described = await admin.describeAcls({ filter })
      expect(described.map((r) => [r.resourceName, r.acls.map((a) => a.operation)])).toEqual([["platformatic-", [AclOperationTypes.DELETE]]])
      const deleted = await admin.deleteAcls({ filters: [filter] })
      expect(deleted.map((a) => a.resourceName)).toEqual(["platformatic-"])
      expect(await admin.describeAcls({ filter })).toEqual([])
    } finally {
      await admin.close()
    }
  }, 30_000)

  test("without super.users, prefixed READ lets a consumer read; other topics answer TOPIC_AUTHORIZATION_FAILED", async () => {
    await broker.close()
    broker = await start(false)

    const admin = client().admin()
    await admin.connect()
    try {
      // Describing ACLs needs DESCRIBE on the cluster, which ANONYMOUS no longer has.
      await expect(admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY
      })).rejects.toMatchObject({ type: "CLUSTER_AUTHORIZATION_FAILED" })
      await expect(admin.fetchTopicMetadata({ topics: ["secret"] })).rejects.toMatchObject({ type: "TOPIC_AUTHORIZATION_FAILED" })
      const listed = await admin.listTopics()
      expect(listed).toEqual(["shared-orders"])
    } finally {
      await admin.disconnect()
    }

    const consumer = client().consumer({ groupId: "readers-1" })
    await consumer.connect()
    const values: Array<string> = []
    try {
      await consumer.subscribe({ topics: ["shared-orders"], fromBeginning: true })
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read ${values.length} records`)), 20_000)
        void consumer.run({
          eachMessage: async ({ message }) => {
            values.push(message.value!.toString())
            if (values.length === 2) {
              clearTimeout(timer)
              resolve()
            }
          }
        })
      })
    } finally {
      await consumer.disconnect()
    }
    expect(values).toEqual(["a", "b"])

    const producer = client().producer()
    await producer.connect()
    try {
      await expect(producer.send({ topic: "shared-orders", messages: [{ value: "c" }] })).rejects.toMatchObject({ type: "TOPIC_AUTHORIZATION_FAILED" })
    } finally {
      await producer.disconnect()
    }
  }, 60_000)
})

// The same rules for authenticated users: a broker process with a SASL_PLAINTEXT listener (PLAIN users admin and
// bob from the JAAS config, admin a super user). kafkajs as bob is refused per operation; granted prefixed WRITE
// and READ by admin it produces and consumes; revoked it is refused again; after a restart the ACL left is in force.
describe("ACLs for SASL users (kafkajs over SASL_PLAINTEXT, a broker process)", () => {
  let process: BrokerProcess | undefined
  const logDir = makeLogDir()
  const properties = {
    "listeners": "SASL_PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:9093",
    "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
    "sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_plaintext.plain.sasl.jaas.config":
      `org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret" user_bob="bob-secret";`,
    "authorizer.class.name": AUTHORIZER,
    "super.users": "User:admin",
    "group.initial.rebalance.delay.ms": "0"
  }
  const as = (user: "admin" | "bob") =>
    new Kafka({
      clientId: `acl-${user}`,
      brokers: [`127.0.0.1:${process!.port}`],
      sasl: { mechanism: "plain", username: user, password: `${user}-secret` },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 }
    })
  const bobAcl = (resourceType: AclResourceTypes, resourceName: string, operation: AclOperationTypes) => ({
    resourceType,
    resourceName,
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    principal: "User:bob",
    host: "*",
    operation,
    permissionType: AclPermissionTypes.ALLOW
  })
  const send = async (topic: string, value: string) => {
    const producer = as("bob").producer()
    await producer.connect()
    try {
      await producer.send({ topic, messages: [{ value }] })
      return "ok"
    } catch (e) {
      // kafkajs reports a Metadata answer of 29 (no DESCRIBE either) in its own words.
      const error = e as { type?: string; message?: string }
      return error.type ?? (/Not authorized to access topics/.test(error.message ?? "") ? "TOPIC_AUTHORIZATION_FAILED" : String(e))
    } finally {
      await producer.disconnect()
    }
  }
  const consume = async (groupId: string, topic: string, count: number) => {
    const consumer = as("bob").consumer({ groupId })
    await consumer.connect()
    const values: Array<string> = []
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read ${values.length} of ${count} records`)), 20_000)
        void consumer.run({
          eachMessage: async ({ message }) => {
            values.push(message.value!.toString())
            if (values.length === count) {
              clearTimeout(timer)
              resolve()
            }
          }
        })
      })
    } finally {
      await consumer.disconnect()
    }
    return values
  }

  afterAll(async () => {
    await process?.stop()
    rmSync(logDir, { recursive: true, force: true })
  })

  test("refused without ACLs, allowed once granted, refused again once revoked, and the grants survive a restart", async () => {
    process = await startProcess({ logDir, properties })
    const admin = as("admin").admin()
    await admin.connect()
    try {
      await admin.createTopics({ topics: [{ topic: "orders-eu", numPartitions: 1 }, { topic: "payments", numPartitions: 1 }] })
      expect(await send("orders-eu", "x")).toBe("TOPIC_AUTHORIZATION_FAILED")
      const bobAdmin = as("bob").admin()
      await bobAdmin.connect()
      try {
        await expect(bobAdmin.createTopics({ topics: [{ topic: "orders-us" }] })).rejects.toThrow()
        // FindCoordinator answers 30; kafkajs reports it as no coordinator found.
        await expect(bobAdmin.fetchOffsets({ groupId: "app-1", topics: ["orders-eu"] })).rejects.toThrow(/group coordinator/)
      } finally {
        await bobAdmin.disconnect()
      }

      await admin.createAcls({
        acl: [
          bobAcl(AclResourceTypes.TOPIC, "orders-", AclOperationTypes.WRITE),
          bobAcl(AclResourceTypes.TOPIC, "orders-", AclOperationTypes.READ),
          bobAcl(AclResourceTypes.GROUP, "app-", AclOperationTypes.READ)
        ]
      })
      expect(await send("orders-eu", "first")).toBe("ok")
      expect(await send("payments", "x")).toBe("TOPIC_AUTHORIZATION_FAILED")
      expect(await consume("app-1", "orders-eu", 1)).toEqual(["first"])

      await admin.deleteAcls({
        filters: [{
          resourceType: AclResourceTypes.TOPIC,
          resourceName: "orders-",
          resourcePatternType: ResourcePatternTypes.PREFIXED,
          principal: "User:bob",
          operation: AclOperationTypes.WRITE,
          permissionType: AclPermissionTypes.ALLOW
        }]
      })
      expect(await send("orders-eu", "second")).toBe("TOPIC_AUTHORIZATION_FAILED")
    } finally {
      await admin.disconnect()
    }

    await process.stop()
    process = await startProcess({ logDir, properties })
    expect(await send("orders-eu", "third")).toBe("TOPIC_AUTHORIZATION_FAILED")
    expect(await consume("app-2", "orders-eu", 1)).toEqual(["first"])
  }, 90_000)
})
