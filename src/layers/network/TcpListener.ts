// Accepts connections on every listener of `listeners` that is not a controller listener and serves each on its
// own fiber. The only place that knows connections are Node sockets: it reads the local address a client
// reached (Metadata answers with it when the listener's host is a wildcard), sets up TLS on SSL and SASL_SSL
// listeners (a TLS client certificate's subject, mapped by `ssl.principal.mapping.rules`, is the principal) and
// gives SASL listeners' connections their SASL state. A client that fails the TLS handshake (a plaintext client
// on a TLS port, no certificate where one is required) is disconnected. SIGHUP reloads the certificates, and so
// does an AlterConfigs of a listener's keystore or truststore keys (services/network/Certificates.ts): each
// listener's TLS comes from the configuration in effect, the file's keys with this node's dynamic ones over them.
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import { Effect, Layer, Option } from "effect"
import type * as Net from "node:net"
import type * as Tls from "node:tls"
import { BrokerConfig, InvalidConfig, type ListenerConfig } from "../../services/config/BrokerConfig.ts"
import { effectiveConfig } from "../../services/config/DynamicConfigs.ts"
import { ClusterMetadata } from "../../services/metadata/ClusterMetadata.ts"
import { Certificates } from "../../services/network/Certificates.ts"
import { Cluster, type ClusterShape } from "../../services/cluster/Cluster.ts"
import { serveConnection } from "../../services/network/Connection.ts"
import { type BoundListener, Listener } from "../../services/network/Listener.ts"
import { RequestBudget } from "../../services/network/RequestBudget.ts"
import { mapPrincipal, parseRules, type PrincipalRule, rfc2253 } from "../../services/security/PrincipalMapping.ts"
import { ANONYMOUS_PRINCIPAL, SaslSession } from "../../services/security/Sasl.ts"
import { ScramCredentials } from "../../services/security/ScramCredentials.ts"
import { Hashing } from "../../services/security/Hashing.ts"
import { tlsSettings } from "./Tls.ts"

/** TLS of one listener: its current options (replaced by a reload) and the server they are applied to. */
interface TlsState {
  options: Tls.TlsOptions
  version: number
  applied: number
  server: Tls.Server | undefined
  readonly rules: ReadonlyArray<PrincipalRule>
}

const loadTls = (l: ListenerConfig) =>
  Effect.try({
    try: () => tlsSettings(l.name, l.ssl),
    catch: (e) => (e instanceof InvalidConfig ? e : new InvalidConfig({ message: `listener ${l.name}: ${String(e)}` }))
  })

/** How a node of a cluster in one process is served: its id, its ports (a restart binds the same), its cluster. */
export interface NodeOptions {
  readonly nodeId: number
  /** Port per listener name; absent: the configured port. */
  readonly ports?: ReadonlyMap<string, number>
  /** Given to the node's connections (requests see the whole cluster). */
  readonly cluster?: ClusterShape
  /** Shared by every node of the process: one request budget for the broker. */
  readonly budget: RequestBudget
}

let connections = 0

/**
 * Serves every listener of one node for as long as the scope is open (closing it closes the listeners and
 * their connections). A broker serves one, its node.id; a simulated cluster serves one per node.
 */
export const serveNode = (node: NodeOptions) => Effect.gen(function*() {
  const config = yield* BrokerConfig
  const scram = yield* ScramCredentials
  const hashing = yield* Hashing
  const budget = node.budget
  const bound: Array<BoundListener> = []
  const tlsStates: Array<[ListenerConfig, TlsState]> = []
  const metadata = yield* ClusterMetadata
  const live = Effect.map(metadata.image, (image) => effectiveConfig(config, image))

  const reloadTls = Effect.gen(function*() {
    const { listeners } = yield* live
    for (const [l, state] of tlsStates) {
      const settings = yield* loadTls(listeners.find((n) => n.name === l.name) ?? l)
      state.options = settings.options
      state.version++
      if (state.server !== undefined) {
        state.server.setSecureContext(settings.options)
        state.applied = state.version
      }
    }
    yield* Effect.logInfo("TLS certificates reloaded")
  })
  const certificates = Certificates.of({ check: (l) => Effect.asVoid(loadTls(l)), reload: reloadTls })

  for (const l of (yield* live).listeners) {
    const { host } = l
    const port = node.ports?.get(l.name) ?? l.port
    const listen = { host: host === "" ? undefined : host, port }
    const tls = l.protocol === "SSL" || l.protocol === "SASL_SSL"
    const sasl = l.protocol === "SASL_PLAINTEXT" || l.protocol === "SASL_SSL"
    let state: TlsState | undefined
    if (tls) {
      const settings = yield* loadTls(l)
      const rules = yield* Effect.try({
        try: () => parseRules(l.ssl.get("ssl.principal.mapping.rules") ?? "DEFAULT"),
        catch: (e) => new InvalidConfig({ message: `listener ${l.name}: ssl.principal.mapping.rules: ${e instanceof Error ? e.message : String(e)}` })
      })
      state = { options: settings.options, version: 0, applied: 0, server: undefined, rules }
      tlsStates.push([l, state])
    }
    const server = state === undefined
      ? yield* NodeSocketServer.make(listen)
      : yield* NodeSocketServer.makeTls({ ...state.options, ...listen })
    const boundPort = server.address._tag === "UnixPathAddress" ? port : server.address.port
    yield* server.run((socket) =>
      Effect.flatMap(Effect.serviceOption(NodeSocket.NetSocket), (conn) => {
        const net: Net.Socket | undefined = Option.getOrUndefined(conn)
        // Responses go out as soon as they are written: Nagle's algorithm would hold small ones back.
        net?.setNoDelay(true)
        let principal = ANONYMOUS_PRINCIPAL
        if (state !== undefined && net !== undefined) {
          const tlsSocket = net as Tls.TLSSocket
          // The server is known from its first connection: a reload before it applies from the next one on.
          state.server ??= (tlsSocket as unknown as { server?: Tls.Server }).server
          if (state.server !== undefined && state.applied !== state.version) {
            state.server.setSecureContext(state.options)
            state.applied = state.version
          }
          const peer = tlsSocket.getPeerX509Certificate?.()
          if (peer !== undefined) {
            // "requested": a certificate that does not verify is refused, as Java's TLS does.
            if (!tlsSocket.authorized) {
              return Effect.andThen(
                Effect.logWarning(`closing connection: TLS client certificate not trusted (${tlsSocket.authorizationError})`),
                Effect.sync(() => tlsSocket.destroy())
              )
            }
            const dn = rfc2253(peer.subject)
            const name = mapPrincipal(state.rules, dn)
            if (name === undefined) {
              return Effect.andThen(
                Effect.logWarning(`closing connection: no ssl.principal.mapping.rules rule applies to ${dn}`),
                Effect.sync(() => tlsSocket.destroy())
              )
            }
            principal = `User:${name}`
          }
        }
        const opened = principal === ANONYMOUS_PRINCIPAL ? Effect.void : Effect.logInfo(`TLS client certificate: ${principal}`)
        return Effect.andThen(opened, serveConnection(socket, {
          id: ++connections,
          localHost: net?.localAddress ?? host,
          localPort: net?.localPort ?? boundPort,
          remote: net === undefined ? "unknown" : `${net.remoteAddress}:${net.remotePort}`,
          listener: l,
          principal,
          nodeId: node.nodeId,
          ...(sasl
            ? {
              sasl: new SaslSession({
                mechanisms: l.saslMechanisms,
                plainUsers: l.plainUsers,
                scram: scram.lookup,
                maxReauthMs: l.maxReauthMs,
                hashing
              })
            }
            : {})
        }, budget).pipe(
          Effect.provideService(Certificates, certificates),
          node.cluster === undefined ? (e) => e : Effect.provideService(Cluster, node.cluster)
        ))
      })
    ).pipe(Effect.forkScoped)
    const named = l.name === l.protocol ? l.name : `${l.name}, ${l.protocol}`
    yield* Effect.logInfo(`listening on ${host === "" ? "*" : host}:${boundPort} (${named}${node.cluster === undefined ? "" : `, node ${node.nodeId}`})`)
    bound.push({ name: l.name, protocol: l.protocol, host, port: boundPort })
  }

  return { listeners: bound as ReadonlyArray<BoundListener>, reloadTls }
})

export const make = Effect.gen(function*() {
  const config = yield* BrokerConfig
  // One budget of request bytes for all connections (queued.max.request.bytes).
  const { listeners, reloadTls } = yield* serveNode({ nodeId: config.nodeId, budget: new RequestBudget(config.queuedMaxRequestBytes) })
  const onHup = () => {
    Effect.runFork(reloadTls.pipe(Effect.catch((e) => Effect.logError(`TLS reload failed: ${e.message}`))))
  }
  if (config.listeners.some((l) => l.protocol === "SSL" || l.protocol === "SASL_SSL")) {
    yield* Effect.acquireRelease(Effect.sync(() => process.on("SIGHUP", onHup)), () => Effect.sync(() => process.off("SIGHUP", onHup)))
  }
  const first = listeners[0]!
  return Listener.of({ host: first.host, port: first.port, listeners, reloadTls })
})

export const layer = Layer.effect(Listener, make)
