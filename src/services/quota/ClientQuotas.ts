// Client quotas on the hot path: Produce and Fetch record the bytes a client moves and learn how long to
// throttle it for. The quotas themselves live in the metadata image (ClientQuotaRecords, see QuotaEntities.ts);
// the layer (layers/quota/ClientQuotas.ts) keeps the measured rates.
import { Context, type Effect } from "effect"

/** The user of a connection without an authenticated principal (Kafka's `User:ANONYMOUS`). */
export const ANONYMOUS = "ANONYMOUS"

/** `producer_byte_rate` is measured on Produce, `consumer_byte_rate` on Fetch. */
export type QuotaKind = "produce" | "fetch"

export interface QuotaClient {
  readonly user: string
  /** The request header's client id ("" when the client sent none). */
  readonly clientId: string
}

export class ClientQuotas extends Context.Service<ClientQuotas, {
  /**
   * Records `bytes` moved by `client` now, and returns how long it must be throttled for, in milliseconds: 0
   * while its rate is within its quota (or no quota applies to it).
   */
  readonly record: (kind: QuotaKind, client: QuotaClient, bytes: number) => Effect.Effect<number>
  /** Takes back bytes `record` counted (a throttled Fetch is answered without its records). */
  readonly unrecord: (kind: QuotaKind, client: QuotaClient, bytes: number) => Effect.Effect<void>
  /**
   * The most bytes one response may carry without a certain throttle even after a quiet window (Infinity
   * without a quota): Fetch reads no more than this.
   */
  readonly maxBytesInWindow: (kind: QuotaKind, client: QuotaClient) => Effect.Effect<number>
}>()("kafka/ClientQuotas") {}

/**
 * The quota client of a request: the connection's principal (`User:alice` → user `alice`; ANONYMOUS without
 * authentication) and the header's client id.
 */
export const quotaClient = (clientId: string | null, principal?: string): QuotaClient => ({
  user: principal === undefined || !principal.startsWith("User:") ? ANONYMOUS : principal.slice(5),
  clientId: clientId ?? ""
})
