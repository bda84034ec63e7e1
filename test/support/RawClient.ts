// A minimal Kafka client for end-to-end tests: it writes requests encoded with the broker's own message
// definitions and reads size-prefixed responses, in order, off a plain TCP socket.
import * as net from "node:net"
import { ByteReader, ByteWriter } from "../../src/protocol/Bytes.ts"
import { writeRequestHeader } from "../../src/protocol/Header.ts"
import { isFlexible, requestCodec, responseCodec, type Api } from "../../src/protocol/Message.ts"
import { ApiVersions } from "../../src/protocol/messages/ApiVersions.ts"

export interface RawResponse {
  readonly correlationId: number
  /** The bytes after the 4-byte size. */
  readonly frame: Uint8Array
}

export class RawClient {
  private readonly socket: net.Socket
  private buffer = Buffer.alloc(0)
  private readonly frames: Array<RawResponse> = []
  private waiters: Array<() => void> = []
  private correlation = 0
  closed = false

  private constructor(socket: net.Socket) {
    this.socket = socket
    socket.on("data", (d) => {
      this.buffer = Buffer.concat([this.buffer, d])
      while (this.buffer.length >= 4) {
        const size = this.buffer.readInt32BE(0)
        if (this.buffer.length < 4 + size) break
        const frame = new Uint8Array(this.buffer.subarray(4, 4 + size))
        this.buffer = this.buffer.subarray(4 + size)
        this.frames.push({ correlationId: new DataView(frame.buffer).getInt32(0), frame })
      }
      this.wake()
    })
    socket.on("close", () => {
      this.closed = true
      this.wake()
    })
    socket.on("error", () => undefined)
  }

  private wake() {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ port, host }, () => resolve(new RawClient(s)))
      s.once("error", reject)
    })
  }

  /** Encodes a request frame; `correlationId` defaults to the next number. */
  static encode<Req>(api: Api<Req, unknown>, version: number, body: Req, correlationId: number, clientId = "raw-test"): Uint8Array {
    const w = new ByteWriter()
    const size = w.reserveInt32()
    writeRequestHeader(w, { apiKey: api.key, apiVersion: version, correlationId, clientId }, isFlexible(api, version))
    requestCodec(api, version).write(w, body)
    w.patchInt32(size, w.length - 4)
    return w.toBytes()
  }

  send<Req>(api: Api<Req, unknown>, version: number, body: Req): number {
    const id = ++this.correlation
    this.socket.write(RawClient.encode(api, version, body, id))
    return id
  }

  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes)
  }

  /** The next response frame, or undefined when the broker closed the connection first. */
  async next(timeoutMs = 10_000): Promise<RawResponse | undefined> {
    const deadline = Date.now() + timeoutMs
    while (this.frames.length === 0) {
      if (this.closed) return undefined
      const left = deadline - Date.now()
      if (left <= 0) throw new Error("timed out waiting for a response")
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
    return this.frames.shift()
  }

  /** Waits until the broker closes the connection (true) or the timeout passes (false). */
  async waitClosed(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    return this.closed
  }

  /** Sends a request and decodes its response (response header v0 for ApiVersions, v1 for flexible versions). */
  async request<Req, Res>(api: Api<Req, Res>, version: number, body: Req): Promise<Res> {
    const id = this.send(api, version, body)
    const response = await this.next()
    if (response === undefined) throw new Error(`connection closed before the response to ${api.name} v${version}`)
    if (response.correlationId !== id) throw new Error(`correlation id ${response.correlationId}, expected ${id}`)
    return decodeResponse(api, version, response.frame)
  }

  close(): void {
    this.socket.destroy()
  }
}

export const decodeResponse = <Res>(api: Api<unknown, Res>, version: number, frame: Uint8Array): Res => {
  const r = new ByteReader(frame)
  r.int32()
  if (api.key !== ApiVersions.key && isFlexible(api, version)) {
    const tags = r.uvarint()
    for (let i = 0; i < tags; i++) {
      r.uvarint()
      r.skip(r.uvarint())
    }
  }
  const value = responseCodec(api, version).read(r)
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after ${api.name} v${version} response`)
  return value
}
