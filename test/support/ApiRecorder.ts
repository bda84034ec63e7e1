// A TCP proxy that notes the API key and version of every request passing through it, so an end-to-end test can
// tell (and report) which versions a real client chose. Like FaultProxy, start the broker with
// `advertised.listeners` naming the proxy so clients keep coming back through it; `target` is asked for the
// broker's port at each new connection, so the broker may restart on another port behind it.
import * as net from "node:net"
import { Framer } from "../../src/services/network/Framer.ts"

export interface RecordedRequest {
  readonly apiKey: number
  readonly apiVersion: number
  readonly clientId: string | null
}

export interface ApiRecorder {
  readonly port: number
  /** Every request seen so far, in arrival order. */
  readonly requests: () => ReadonlyArray<RecordedRequest>
  /** The versions seen per API key, for requests whose client id starts with `clientIdPrefix` when given. */
  readonly versions: (clientIdPrefix?: string) => ReadonlyMap<number, ReadonlyArray<number>>
  readonly close: () => Promise<void>
}

const requestFrames = (onFrame: (frame: Buffer) => void) => {
  const framer = new Framer()
  return (chunk: Buffer) => {
    for (const f of framer.push([chunk])) if (f instanceof Uint8Array) onFrame(Buffer.from(f.buffer, f.byteOffset, f.length))
  }
}

/** Request header v1/v2: api key, api version, correlation id, then client id as an int16-length string. */
const parseHeader = (frame: Buffer): RecordedRequest => {
  const length = frame.length >= 10 ? frame.readInt16BE(8) : -1
  return {
    apiKey: frame.readInt16BE(0),
    apiVersion: frame.readInt16BE(2),
    clientId: length < 0 ? null : frame.toString("utf8", 10, 10 + length)
  }
}

export const startApiRecorder = async (target: () => number, host = "127.0.0.1"): Promise<ApiRecorder> => {
  const seen: Array<RecordedRequest> = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.createConnection({ host, port: target() })
    sockets.add(client)
    sockets.add(upstream)
    const record = requestFrames((frame) => seen.push(parseHeader(frame)))
    client.on("data", (chunk: Buffer) => {
      record(chunk)
      upstream.write(chunk)
    })
    upstream.on("data", (chunk: Buffer) => client.write(chunk))
    const close = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on("close", close)
    upstream.on("close", close)
    client.on("error", close)
    upstream.on("error", close)
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    requests: () => seen,
    versions: (prefix) => {
      const byKey = new Map<number, Array<number>>()
      for (const r of seen) {
        if (prefix !== undefined && !(r.clientId ?? "").startsWith(prefix)) continue
        const versions = byKey.get(r.apiKey) ?? []
        if (!versions.includes(r.apiVersion)) versions.push(r.apiVersion)
        byKey.set(r.apiKey, versions.sort((a, b) => a - b))
      }
      return byKey
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
