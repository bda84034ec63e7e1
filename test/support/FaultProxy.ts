// A TCP proxy between clients and a broker that can lose a connection at the worst moment: after a request has
// reached the broker, before its response reaches the client. The client then retries on a new connection, which
// is how a duplicate would be written if the broker did not recognise the retry. Start the broker with
// `advertised.listeners` naming the proxy so clients keep coming back through it.
import * as net from "node:net"
import { Framer } from "../../src/services/network/Framer.ts"

export interface FaultProxy {
  readonly port: number
  /** Drops the connection that carries the next request with this API key, once its response is back. */
  readonly dropNextResponse: (apiKey: number) => void
  /** How many connections were dropped so far. */
  readonly dropped: () => number
  readonly close: () => Promise<void>
}

/** Calls `onFrame` with each whole frame (size prefix excluded) of a Kafka byte stream. */
const frames = (onFrame: (frame: Buffer) => void) => {
  const framer = new Framer()
  return (chunk: Buffer) => {
    for (const f of framer.push([chunk])) if (f instanceof Uint8Array) onFrame(Buffer.from(f.buffer, f.byteOffset, f.length))
  }
}

export const startFaultProxy = async (target: () => number, host = "127.0.0.1"): Promise<FaultProxy> => {
  const armed = new Set<number>()
  let dropped = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.createConnection({ host, port: target() })
    sockets.add(client)
    sockets.add(upstream)
    // The correlation id of the request whose response must never arrive.
    let doomed: number | undefined
    const requests = frames((frame) => {
      if (doomed === undefined && armed.delete(frame.readInt16BE(0))) doomed = frame.readInt32BE(4)
    })
    const responses = frames((frame) => {
      if (frame.readInt32BE(0) === doomed) {
        // The broker has handled the request; the client never hears of it and must retry.
        dropped++
        client.destroy()
        upstream.destroy()
        return
      }
      const size = Buffer.alloc(4)
      size.writeInt32BE(frame.length)
      client.write(Buffer.concat([size, frame]))
    })
    client.on("data", (d) => {
      requests(d)
      upstream.write(d)
    })
    upstream.on("data", responses)
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
    dropNextResponse: (apiKey) => void armed.add(apiKey),
    dropped: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
