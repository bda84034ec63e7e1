// What a handler is: the API it serves (whose definition carries the supported versions) and a function from a
// decoded request to a response. Handlers never fail: every failure a client can see is already an error code
// in the response; what escapes is a defect, which closes the connection.
import type { Effect } from "effect"
import { type Api, versions } from "../../protocol/Message.ts"
import type { ListenerConfig } from "../config/BrokerConfig.ts"
import type { SaslSession } from "../security/Sasl.ts"

export interface ConnectionInfo {
  readonly id: number
  /** The address the client connected to (this side of the socket). */
  readonly localHost: string
  readonly localPort: number
  readonly remote: string
  /** The listener the client connected to; undefined means the first one (as in tests). */
  readonly listener?: ListenerConfig
  /**
   * Who the client is: `User:<name>` after SASL, `User:<mapped certificate subject>` with a TLS client certificate,
   * else `User:ANONYMOUS` (also when undefined). Set by the listener and the connection, read by authorization
   * and quotas.
   */
  principal?: string
  /** The SASL state on a SASL_PLAINTEXT or SASL_SSL listener. */
  readonly sasl?: SaslSession
  /** The node the client connected to, in a cluster of several in one process; the broker's node.id when absent. */
  readonly nodeId?: number
}

export interface RequestContext {
  readonly apiVersion: number
  readonly correlationId: number
  readonly clientId: string | null
  readonly connection: ConnectionInfo
  /**
   * Set by the connection: nothing more is read from this client before `untilMs` (Clock time). For a throttled
   * request without an answer to carry `throttle_time_ms` (Produce with acks=0); an answer carrying one mutes the
   * connection by itself.
   */
  readonly mute?: (untilMs: number) => void
}

/** Returned by a handler that must not answer (Produce with acks=0). */
export const NoResponse: unique symbol = Symbol.for("kafka/NoResponse")
export type NoResponse = typeof NoResponse

export interface Handler<Req, Res, R> {
  readonly api: Api<Req, Res>
  /** The versions served: broker policy, within the versions the message definition describes. */
  readonly minVersion: number
  readonly maxVersion: number
  readonly handle: (request: Req, context: RequestContext) => Effect.Effect<Res | NoResponse, never, R>
  /**
   * Whether this request may wait long (a long poll, a rebalance). Such requests run on their own fiber, so the
   * connection's next requests are handled meanwhile; every other request runs in arrival order, one at a
   * time, so that produces pipelined on one connection append in the order they were sent.
   */
  readonly waits: (request: Req) => boolean
}

const never = () => false

/** A handler serving `served` versions ("0-11") of `api`. */
export const handler = <Req, Res, R>(
  api: Api<Req, Res>,
  served: string,
  handle: (request: Req, context: RequestContext) => Effect.Effect<Res | NoResponse, never, R>,
  options: { readonly waits?: (request: Req) => boolean } = {}
): Handler<Req, Res, R> => {
  const [minVersion, maxVersion] = versions(served)
  if (minVersion < api.validVersions[0] || maxVersion > api.validVersions[1]) {
    throw new Error(`${api.name}: versions ${served} served, the definition describes ${api.validVersions.join("-")}`)
  }
  return { api, minVersion, maxVersion, handle, waits: options.waits ?? never }
}
