// A minimal Kafka client over a plain TCP socket: requests encoded with the broker's own message definitions,
// responses read in order with the broker's own framer. What the end-to-end tests, the benchmarks and the fuzzer
// speak the protocol with; not an application client (no metadata, no retries).
import * as net from "node:net"
import { readResponse, requestFrame } from "../protocol/Frames.ts"
import type { Api } from "../protocol/Message.ts"
import { Framer } from "../services/network/Framer.ts"

export interface RawResponse {
  readonly correlationId: number
  /** The bytes after the 4-byte size. */
  readonly frame: Uint8Array
}

export class RawClient {
  private readonly socket: net.Socket
  private readonly framer = new Framer()
  private readonly frames: Array<RawResponse> = []
  private waiters: Array<() => void> = []
  private correlation = 0
  closed = false

  private constructor(socket: net.Socket) {
    this.socket = socket
    socket.on("data", (d: Buffer) => {
      for (const frame of this.framer.push([d])) {
        // The frame may be a view of a socket buffer Node reuses: keep a copy.
        if (frame instanceof Uint8Array) this.frames.push({ correlationId: new DataView(frame.buffer, frame.byteOffset).getInt32(0), frame: frame.slice() })
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
    return requestFrame(api, version, body, correlationId, clientId)
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

/** The body of a response frame (the bytes after the size prefix). */
export const decodeResponse = readResponse
