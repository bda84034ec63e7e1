// Clients that do not read their socket must not pin the broker's memory or slow anyone else down. Twenty
// connections pipeline Fetches of 50 MB, as consumers send them, against a 200 MB partition and never read a
// byte; the broker holds records only as the socket takes them, so its memory barely moves, and another client
// keeps getting answers at once.
import * as net from "node:net"
import { rmSync } from "node:fs"
import { afterAll, beforeAll, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import { ApiVersions } from "../../src/protocol/messages/ApiVersions.ts"
import { Fetch } from "../../src/protocol/messages/Fetch.ts"
import { Metadata } from "../../src/protocol/messages/Metadata.ts"
import { Produce } from "../../src/protocol/messages/Produce.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import { RawClient } from "../../src/client/RawClient.ts"

let broker: RunningBroker
beforeAll(async () => {
  broker = await startBroker({ storage: "disk", config: { "message.max.bytes": String(2 * 1024 * 1024) } })
})
afterAll(async () => {
  await broker.close()
  rmSync(broker.logDir, { recursive: true, force: true })
})

const MB = 1024 * 1024

const fetchRequest = (maxBytes: number) => ({
  replicaId: -1,
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes,
  isolationLevel: 0,
  sessionId: 0,
  sessionEpoch: -1,
  topics: [{
    topic: "big",
    topicId: ZERO_UUID,
    partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: maxBytes }]
  }],
  forgottenTopicsData: [],
  rackId: ""
})

const rss = () => process.memoryUsage().rss

test("twenty clients that never read their Fetch answers cost the broker little memory and nobody their latency", async () => {
  await broker.createTopic("big", { partitions: 1 })
  const producer = await RawClient.connect(broker.port)
  const batch = encodeBatch([{ value: new Uint8Array(MB).fill(7) }])
  for (let i = 0; i < 200; i++) {
    const r = await producer.request(Produce, 9, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 10_000,
      topicData: [{ name: "big", partitionData: [{ index: 0, records: batch.slice() }] }]
    })
    expect(r.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
  }
  producer.close()

  globalThis.gc?.()
  const before = rss()
  // Twenty sockets that send ten 50 MB Fetches each and never read.
  const stalled = await Promise.all(Array.from({ length: 20 }, () =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection({ host: "127.0.0.1", port: broker.port }, () => {
        s.pause()
        for (let i = 0; i < 10; i++) s.write(RawClient.encode(Fetch, 12, fetchRequest(50 * MB), i + 1))
        resolve(s)
      })
      s.once("error", reject)
    })))
  // Another client keeps asking; its answers come at once.
  const other = await RawClient.connect(broker.port)
  const latencies: Array<number> = []
  let peak = rss()
  const until = Date.now() + 3_000
  while (Date.now() < until) {
    const t = performance.now()
    const md = await other.request(Metadata, 12, {
      topics: [{ topicId: ZERO_UUID, name: "big" }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false
    })
    latencies.push(performance.now() - t)
    expect(md.topics[0]!.errorCode).toBe(0)
    peak = Math.max(peak, rss())
    await new Promise((r) => setTimeout(r, 10))
  }
  latencies.sort((a, b) => a - b)
  const p99 = latencies[Math.floor(latencies.length * 0.99)]!
  // Holding what they asked for would be 20 × 10 × 50 MB; a megabyte per connection is what it takes.
  expect(peak - before).toBeLessThan(300 * MB)
  expect(p99).toBeLessThan(250)
  // A small Fetch from the other client is answered too.
  const small = await other.request(Fetch, 12, { ...fetchRequest(2 * MB), maxWaitMs: 0 })
  expect(small.responses[0]!.partitions[0]!.errorCode).toBe(0)
  for (const s of stalled) s.destroy()
  other.close()
}, 60_000)

test("queued.max.request.bytes is one budget for all connections: a request waits while another holds it", async () => {
  const small = await startBroker({ config: { "socket.request.max.bytes": String(MB), "queued.max.request.bytes": String(MB) } })
  try {
    const versions = RawClient.encode(ApiVersions, 0, { clientSoftwareName: "t", clientSoftwareVersion: "1" }, 1)
    // A client announces a request of the whole budget and sends half of it.
    const hog = await new Promise<net.Socket>((resolve) => {
      const s = net.createConnection({ host: "127.0.0.1", port: small.port }, () => resolve(s))
    })
    const big = new Uint8Array(4 + MB)
    new DataView(big.buffer).setInt32(0, MB)
    hog.write(big.subarray(0, big.length / 2))
    await new Promise((r) => setTimeout(r, 200))
    // Another client's small request waits for the budget...
    const other = await RawClient.connect(small.port)
    other.writeRaw(versions)
    await expect(other.next(500)).rejects.toThrow("timed out")
    // ...and is answered once the first request is whole (and handled: it is no request at all, so its
    // connection is closed and its bytes go back).
    hog.write(big.subarray(big.length / 2))
    const answer = await other.next(5_000)
    expect(answer?.correlationId).toBe(1)
    hog.destroy()
    other.close()
  } finally {
    await small.close()
  }
}, 30_000)
