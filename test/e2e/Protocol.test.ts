// The real broker process over TCP, driven by a raw client built on the broker's own codecs: version
// negotiation, pipelining, concurrent connections, produce and fetch, and bad input that must close one
// connection while the server keeps serving the others.
import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import { ErrorCode } from "../../src/protocol/ErrorCode.ts"
import { ApiVersions } from "../../src/protocol/messages/ApiVersions.ts"
import { DescribeTopicPartitions } from "../../src/protocol/messages/DescribeTopicPartitions.ts"
import { Fetch } from "../../src/protocol/messages/Fetch.ts"
import { ListOffsets } from "../../src/protocol/messages/ListOffsets.ts"
import { Metadata } from "../../src/protocol/messages/Metadata.ts"
import { Produce } from "../../src/protocol/messages/Produce.ts"
import { decodeRecords, encodeBatch } from "../../src/protocol/RecordBatch.ts"
import { makeLogDir, startBroker, writeTopics, type BrokerProcess } from "../support/BrokerProcess.ts"
import { decodeResponse, RawClient } from "../../src/client/RawClient.ts"
import { received } from "../support/TestLayers.ts"

const text = new TextEncoder()
const MAX_REQUEST = 64 * 1024

let broker: BrokerProcess

beforeAll(async () => {
  const logDir = makeLogDir()
  await writeTopics(logDir, { orders: 3, events: 1, "zz-last": 2 })
  broker = await startBroker({ logDir, properties: { "socket.request.max.bytes": String(MAX_REQUEST) } })
})

afterAll(async () => {
  await broker?.stop()
})

const connect = () => RawClient.connect(broker.port)

const produceRequest = (topic: string, partition: number, values: ReadonlyArray<string>) => ({
  transactionalId: null,
  acks: -1,
  timeoutMs: 5000,
  topicData: [{
    name: topic,
    partitionData: [{ index: partition, records: encodeBatch(values.map((v) => ({ key: text.encode(`k-${v}`), value: text.encode(v) }))) }]
  }]
})

const metadataAll = { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }

describe("broker over TCP", () => {
  it("answers ApiVersions v0 and v4 with the supported ranges", async () => {
    const client = await connect()
    for (const version of [0, 4]) {
      const response = await client.request(ApiVersions, version, { clientSoftwareName: "raw", clientSoftwareVersion: "1" })
      assert.strictEqual(response.errorCode, ErrorCode.NONE)
      const byKey = new Map(response.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]))
      assert.deepStrictEqual(byKey.get(Produce.key), [0, 11])
      assert.deepStrictEqual(byKey.get(Fetch.key), [4, 17])
      assert.deepStrictEqual(byKey.get(Metadata.key), [0, 12])
      assert.deepStrictEqual(byKey.get(ApiVersions.key), [0, 4])
      assert.deepStrictEqual(byKey.get(DescribeTopicPartitions.key), [0, 0])
    }
    client.close()
  })

  it("answers an unsupported ApiVersions version with error 35 in the v0 layout, still listing the ranges", async () => {
    const client = await connect()
    // A future v9 request: the broker cannot know its body, only its header.
    const frame = RawClient.encode(ApiVersions, 4, { clientSoftwareName: "raw", clientSoftwareVersion: "1" }, 77)
    new DataView(frame.buffer).setInt16(6, 9)
    client.writeRaw(frame)
    const response = await client.next()
    assert.isDefined(response)
    assert.strictEqual(response!.correlationId, 77)
    const body = decodeResponse(ApiVersions, 0, response!.frame)
    assert.strictEqual(body.errorCode, ErrorCode.UNSUPPORTED_VERSION)
    assert.isTrue(body.apiKeys.some((k) => k.apiKey === ApiVersions.key && k.maxVersion === 4))
    // The connection stays usable for the retry at a lower version.
    const retry = await client.request(ApiVersions, 3, { clientSoftwareName: "raw", clientSoftwareVersion: "1" })
    assert.strictEqual(retry.errorCode, ErrorCode.NONE)
    client.close()
  })

  it("answers five pipelined requests on one connection in order", async () => {
    const client = await connect()
    const ids = [
      client.send(ApiVersions, 3, { clientSoftwareName: "raw", clientSoftwareVersion: "1" }),
      client.send(Metadata, 12, metadataAll),
      client.send(Produce, 9, produceRequest("events", 0, ["pipelined"])),
      client.send(ListOffsets, 8, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: "events", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 }] }],
        timeoutMs: 0
      }),
      client.send(Metadata, 1, metadataAll)
    ]
    const received: Array<number> = []
    for (let i = 0; i < ids.length; i++) received.push((await client.next())!.correlationId)
    assert.deepStrictEqual(received, ids)
    client.close()
  })

  it("serves three connections with interleaved requests", async () => {
    const clients = await Promise.all([connect(), connect(), connect()])
    const results = await Promise.all(clients.map(async (client, i) => {
      const offsets: Array<number> = []
      for (let round = 0; round < 5; round++) {
        const r = await client.request(Produce, 7, produceRequest("orders", i, [`c${i}-r${round}`]))
        offsets.push(r.responses[0]!.partitionResponses[0]!.baseOffset)
        const md = await client.request(Metadata, 4, metadataAll)
        assert.strictEqual(md.topics.length, 3)
      }
      return offsets
    }))
    // Each connection wrote its own partition: offsets count up on their own.
    for (const offsets of results) {
      assert.deepStrictEqual(offsets.map((o) => o - offsets[0]!), [0, 1, 2, 3, 4])
    }
    clients.forEach((c) => c.close())
  })

  it("lists the metadata log's topics in Metadata and DescribeTopicPartitions", async () => {
    const client = await connect()
    const md = await client.request(Metadata, 12, metadataAll)
    assert.deepStrictEqual(md.topics.map((t) => [t.name, t.partitions.length]), [["events", 1], ["orders", 3], ["zz-last", 2]])
    assert.deepStrictEqual(md.brokers.map((b) => [b.nodeId, b.host, b.port]), [[1, "127.0.0.1", broker.port]])
    assert.strictEqual(md.controllerId, 1)

    const described = await client.request(DescribeTopicPartitions, 0, {
      topics: [{ name: "zz-last" }, { name: "missing" }, { name: "orders" }],
      responsePartitionLimit: 2000,
      cursor: null
    })
    assert.deepStrictEqual(described.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]), [
      ["missing", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []],
      ["orders", ErrorCode.NONE, [0, 1, 2]],
      ["zz-last", ErrorCode.NONE, [0, 1]]
    ])
    assert.strictEqual(described.topics[0]!.topicId, "00000000-0000-0000-0000-000000000000")
    assert.isNull(described.nextCursor)
    client.close()
  })

  it("fetches back exactly the bytes it was produced", async () => {
    const client = await connect()
    const batch = encodeBatch([{ key: text.encode("a"), value: text.encode("first") }, { key: null, value: text.encode("second") }])
    const produced = await client.request(Produce, 11, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: "zz-last", partitionData: [{ index: 1, records: batch }] }]
    })
    const result = produced.responses[0]!.partitionResponses[0]!
    assert.strictEqual(result.errorCode, ErrorCode.NONE)
    const md = await client.request(Metadata, 12, metadataAll)
    const topicId = md.topics.find((t) => t.name === "zz-last")!.topicId

    const fetched = await client.request(Fetch, 16, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic: "",
        topicId,
        partitions: [{ partition: 1, currentLeaderEpoch: -1, fetchOffset: result.baseOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }]
      }],
      forgottenTopicsData: [],
      rackId: ""
    })
    const p = fetched.responses[0]!.partitions[0]!
    assert.strictEqual(p.errorCode, ErrorCode.NONE)
    assert.strictEqual(p.highWatermark, result.baseOffset + 2)
    // Same bytes apart from the base offset and leader epoch the broker assigns (outside the CRC).
    assert.deepStrictEqual(received(p.records).subarray(21), batch.subarray(21))
    assert.deepStrictEqual(decodeRecords(received(p.records)).map((r) => new TextDecoder().decode(r.value!)), ["first", "second"])
    client.close()
  })

  it("closes a connection whose frame exceeds socket.request.max.bytes and keeps serving others", async () => {
    const bystander = await connect()
    const offender = await connect()
    const header = new Uint8Array(4)
    new DataView(header.buffer).setInt32(0, MAX_REQUEST + 1)
    offender.writeRaw(header)
    assert.isTrue(await offender.waitClosed())
    const md = await bystander.request(Metadata, 9, metadataAll)
    assert.strictEqual(md.topics.length, 3)
    bystander.close()
    assert.match(broker.output(), /exceeds socket\.request\.max\.bytes/)
  })

  it("closes a connection that sends garbage, an unknown API or an unsupported version, and survives", async () => {
    const garbage = await connect()
    garbage.writeRaw(text.encode("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
    assert.isTrue(await garbage.waitClosed())

    const truncated = await connect()
    truncated.writeRaw(new Uint8Array([0, 0, 0, 3, 0, 18, 0]))
    assert.isTrue(await truncated.waitClosed())

    const unknownApi = await connect()
    const frame = RawClient.encode(Metadata, 1, metadataAll, 5)
    new DataView(frame.buffer).setInt16(4, 999)
    unknownApi.writeRaw(frame)
    assert.isUndefined(await unknownApi.next())

    const token = await connect()
    const createToken = RawClient.encode(Metadata, 1, metadataAll, 6)
    new DataView(createToken.buffer).setInt16(4, 38)
    token.writeRaw(createToken)
    assert.isUndefined(await token.next())

    const tooNew = await connect()
    const metadataV99 = RawClient.encode(Metadata, 1, metadataAll, 7)
    new DataView(metadataV99.buffer).setInt16(6, 99)
    tooNew.writeRaw(metadataV99)
    assert.isUndefined(await tooNew.next())

    const healthy = await connect()
    const md = await healthy.request(Metadata, 0, { ...metadataAll, topics: [] })
    assert.strictEqual(md.topics.length, 3)
    healthy.close()
    assert.match(broker.output(), /CreateDelegationToken \(api key 38\) is not supported/)
    assert.match(broker.output(), /Metadata v99 is not supported/)
  })
})
