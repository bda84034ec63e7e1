// Accepts TCP connections on the configured listener and serves each on its own fiber. The only place that
// knows connections are Node sockets: it reads the local address a client reached, which Metadata answers
// with when the listener's host is a wildcard.
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import { Effect, Layer, Option } from "effect"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import { serveConnection } from "../../services/network/Connection.ts"
import { Listener } from "../../services/network/Listener.ts"
import { RequestBudget } from "../../services/network/RequestBudget.ts"

export const make = Effect.gen(function*() {
  const config = yield* BrokerConfig
  const { host, port } = config.listener
  const server = yield* NodeSocketServer.make({ host: host === "" ? undefined : host, port })
  const bound = server.address._tag === "UnixPathAddress" ? port : server.address.port
  let connections = 0
  // One budget of request bytes for all connections (queued.max.request.bytes).
  const budget = new RequestBudget(config.queuedMaxRequestBytes)
  yield* server.run((socket) =>
    Effect.flatMap(Effect.serviceOption(NodeSocket.NetSocket), (conn) => {
      // Responses go out as soon as they are written: Nagle's algorithm would hold small ones back.
      if (conn._tag === "Some") conn.value.setNoDelay(true)
      return serveConnection(socket, {
        id: ++connections,
        localHost: Option.match(conn, { onNone: () => host, onSome: (c) => c.localAddress ?? host }),
        localPort: Option.match(conn, { onNone: () => bound, onSome: (c) => c.localPort ?? bound }),
        remote: Option.match(conn, { onNone: () => "unknown", onSome: (c) => `${c.remoteAddress}:${c.remotePort}` }),
        principal: "User:ANONYMOUS"
      }, budget)
    })
  ).pipe(Effect.forkScoped)
  yield* Effect.logInfo(`listening on ${host === "" ? "*" : host}:${bound} (${config.listener.name})`)
  return Listener.of({ host, port: bound })
})

export const layer = Layer.effect(Listener, make)
