// What the broker counts as it serves, for `/metrics` and the console's rates: records and bytes in and out per
// topic, requests and their latency per API, open connections per listener. The hot path pays a map lookup and
// a few additions: plain numbers here, turned into Effect metrics only when scraped (services/metrics/Exposition.ts).
import { Context, Layer } from "effect"

/** Request latency histogram boundaries, milliseconds (Kafka's RequestMetrics TotalTimeMs). */
export const LATENCY_BOUNDARIES_MS: ReadonlyArray<number> = [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]

export interface TopicCounts {
  messagesIn: number
  bytesIn: number
  bytesOut: number
}

export interface RequestCounts {
  count: number
  /** Milliseconds. */
  sum: number
  /** Requests at or under each boundary of LATENCY_BOUNDARIES_MS (not cumulative). */
  readonly buckets: Float64Array
}

export class BrokerStats {
  readonly topics = new Map<string, TopicCounts>()
  readonly requests = new Map<string, RequestCounts>()
  /** Open connections by listener name. */
  readonly connections = new Map<string, number>()
  /** Totals over every topic, for the rates. */
  messagesIn = 0
  bytesIn = 0
  bytesOut = 0

  private topic(name: string): TopicCounts {
    let t = this.topics.get(name)
    if (t === undefined) this.topics.set(name, (t = { messagesIn: 0, bytesIn: 0, bytesOut: 0 }))
    return t
  }

  /** Records appended (a retried duplicate is not counted again). */
  produced(topic: string, records: number, bytes: number): void {
    const t = this.topic(topic)
    t.messagesIn += records
    t.bytesIn += bytes
    this.messagesIn += records
    this.bytesIn += bytes
  }

  /** Record bytes answered to a consumer. */
  fetched(topic: string, bytes: number): void {
    if (bytes === 0) return
    this.topic(topic).bytesOut += bytes
    this.bytesOut += bytes
  }

  /** One request of `api` answered `ms` after it was read. */
  request(api: string, ms: number): void {
    let r = this.requests.get(api)
    if (r === undefined) this.requests.set(api, (r = { count: 0, sum: 0, buckets: new Float64Array(LATENCY_BOUNDARIES_MS.length) }))
    r.count++
    r.sum += ms
    for (let i = 0; i < LATENCY_BOUNDARIES_MS.length; i++) {
      if (ms <= LATENCY_BOUNDARIES_MS[i]!) {
        r.buckets[i]!++
        break
      }
    }
  }

  connected(listener: string, delta: 1 | -1): void {
    this.connections.set(listener, (this.connections.get(listener) ?? 0) + delta)
  }
}

export class BrokerMetrics extends Context.Service<BrokerMetrics, BrokerStats>()("kafka/BrokerMetrics") {
  static readonly layer = Layer.sync(BrokerMetrics, () => new BrokerStats())
}
