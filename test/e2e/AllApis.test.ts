// Every API the broker advertises in ApiVersions, at its minimum and its maximum version, sent over TCP with the
// smallest well-formed body (every field at its default): each is answered, on the same connection, with a
// response that decodes whole at that version and carries the request's correlation id, and the connection stays
// open. An API key the broker does not advertise closes the connection, as Kafka does, and the broker goes on.
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { RawClient } from "../../src/client/RawClient.ts"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { readResponse } from "../../src/protocol/Frames.ts"
import { type Api, defaultValue } from "../../src/protocol/Message.ts"
import { ApiVersions } from "../../src/protocol/messages/ApiVersions.ts"
import { handlers, supportedApis } from "../../src/services/api/Apis.ts"

let broker: RunningBroker

beforeAll(async () => {
  broker = await startBroker({ logLevel: "Error" })
  await broker.createTopic("walk", { partitions: 1 })
})

afterAll(async () => {
  await broker?.close()
})

/** The smallest body of each request; a Produce with acks 0 would get no answer, so it asks for one. */
const bodyOf = (api: Api<any, any>): unknown => {
  const body = defaultValue(api.request) as Record<string, unknown>
  return api.key === 0 ? { ...body, acks: 1 } : body
}

const cases = supportedApis.flatMap((range) => {
  const api = handlers.get(range.apiKey)!.api
  return [...new Set([range.minVersion, range.maxVersion])].map((version) => ({ name: api.name, key: range.apiKey, version, api }))
})

describe("every advertised API", () => {
  test("the table names each API once, with a handler", () => {
    expect(new Set(supportedApis.map((a) => a.apiKey)).size).toBe(supportedApis.length)
    expect(cases.length).toBeGreaterThan(supportedApis.length)
  })

  test.each(cases)("$name ($key) v$version: a well-formed answer to the smallest body", async ({ api, version }) => {
    const client = await RawClient.connect(broker.port)
    try {
      const id = client.send(api, version, bodyOf(api))
      const response = await client.next(5_000)
      expect(response, "answered before the connection closed").toBeDefined()
      expect(response!.correlationId).toBe(id)
      expect(() => readResponse(api, version, response!.frame)).not.toThrow()
      // The connection is still usable.
      const again = await client.request(ApiVersions, 3, { clientSoftwareName: "walk", clientSoftwareVersion: "1" })
      expect(again.errorCode).toBe(0)
    } finally {
      client.close()
    }
  })

  test("an API key it does not advertise closes that connection only", async () => {
    const unserved = Array.from({ length: 100 }, (_, k) => k).find((k) => !handlers.has(k))!
    const client = await RawClient.connect(broker.port)
    const frame = RawClient.encode(ApiVersions, 0, { clientSoftwareName: "", clientSoftwareVersion: "" }, 1)
    // The same header with another api key.
    new DataView(frame.buffer, frame.byteOffset).setInt16(4, unserved)
    client.writeRaw(frame)
    expect(await client.waitClosed(5_000)).toBe(true)
    const other = await RawClient.connect(broker.port)
    const answer = await other.request(ApiVersions, 3, { clientSoftwareName: "walk", clientSoftwareVersion: "1" })
    expect(answer.errorCode).toBe(0)
    other.close()
  })
})
