// `/metrics`: the broker's counters and state as Effect metrics, rendered by Effect's PrometheusMetrics. Each
// scrape registers, in a registry of its own, one metric per series whose value is read from the counters
// (services/metrics/BrokerStats.ts) and from the state it gathers (partitions, groups): the hot path never touches
// a metric. Names are those the JMX exporter's Kafka rules and kafka_exporter give, so dashboards built on them work.
import { Context, Effect, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { allPartitions, groupOffsets } from "../console/Inspect.ts"
import { BrokerMetrics, LATENCY_BOUNDARIES_MS } from "./BrokerStats.ts"

/** What the process reports of itself (the layer reads it from Node). */
export interface ProcessSample {
  readonly cpuSeconds: number
  readonly residentBytes: number
  readonly heapUsedBytes: number
  readonly heapTotalBytes: number
  readonly startTimeSeconds: number
}

type Attributes = Readonly<Record<string, string>>

/** A registry the scrape fills: series added with their current values. */
class Series {
  readonly context = Context.make(Metric.MetricRegistry, new Map())
  private readonly noop = () => {}

  counter(name: string, description: string, attributes: Attributes, count: number) {
    Metric.registerUnsafe(Metric.counter(name, { description, attributes }), this.context, {
      get: () => ({ count, incremental: true }),
      update: this.noop,
      modify: this.noop
    })
  }

  gauge(name: string, description: string, attributes: Attributes, value: number) {
    Metric.registerUnsafe(Metric.gauge(name, { description, attributes }), this.context, {
      get: () => ({ value }),
      update: this.noop,
      modify: this.noop
    })
  }

  histogram(name: string, description: string, attributes: Attributes, buckets: ArrayLike<number>, count: number, sum: number) {
    let cumulative = 0
    const state = {
      buckets: LATENCY_BOUNDARIES_MS.map((b, i): [number, number] => [b, (cumulative += buckets[i]!)]),
      count,
      min: Number.NaN,
      max: Number.NaN,
      sum
    }
    Metric.registerUnsafe(Metric.histogram(name, { description, attributes, boundaries: LATENCY_BOUNDARIES_MS }), this.context, {
      get: () => state,
      update: this.noop,
      modify: this.noop
    })
  }
}

/** The Prometheus text of one scrape. */
export const scrape = (process: ProcessSample) =>
  Effect.gen(function*() {
    const stats = yield* BrokerMetrics
    const image = yield* (yield* ClusterMetadata).image
    const s = new Series()

    for (const [topic, t] of stats.topics) {
      if (!image.topics.has(topic)) continue // a deleted topic's series go with it, as Kafka's
      s.counter("kafka_server_brokertopicmetrics_messagesin_total", "Records appended to the topic", { topic }, t.messagesIn)
      s.counter("kafka_server_brokertopicmetrics_bytesin_total", "Record batch bytes appended to the topic", { topic }, t.bytesIn)
      s.counter("kafka_server_brokertopicmetrics_bytesout_total", "Record bytes answered to consumers of the topic", { topic }, t.bytesOut)
    }
    for (const [request, r] of stats.requests) {
      s.counter("kafka_network_requestmetrics_requests_total", "Requests answered, by API", { request }, r.count)
      s.histogram("kafka_network_requestmetrics_totaltimems", "Time from a request read to its answer, milliseconds", { request }, r.buckets, r.count, r.sum)
    }
    for (const [listener, n] of stats.connections) {
      s.gauge("kafka_server_socket_server_connections", "Open client connections", { listener }, n)
    }

    for (const { topic, partitions } of yield* allPartitions) {
      for (const p of partitions) {
        const at = { topic: topic.name, partition: String(p.partition) }
        s.gauge("kafka_log_log_size", "Bytes of the partition's segments", at, p.bytes)
        s.gauge("kafka_log_log_logendoffset", "The partition's log end offset", at, p.logEndOffset)
        s.gauge("kafka_log_log_logstartoffset", "The partition's log start offset", at, p.logStartOffset)
      }
    }

    const groups = yield* (yield* GroupCoordinator).list
    for (const g of groups) {
      for (const o of yield* groupOffsets(g.groupId)) {
        const at = { group: g.groupId, topic: o.topic, partition: String(o.partition) }
        s.gauge("kafka_consumergroup_current_offset", "The group's committed offset", at, o.committed)
        s.gauge("kafka_consumergroup_lag", "Records between the group's committed offset and the log end", at, o.lag)
      }
    }

    s.counter("process_cpu_seconds_total", "User and system CPU time of the broker process", {}, process.cpuSeconds)
    s.gauge("process_resident_memory_bytes", "Resident memory of the broker process", {}, process.residentBytes)
    s.gauge("process_start_time_seconds", "When the broker process started, seconds since the epoch", {}, process.startTimeSeconds)
    s.gauge("nodejs_heap_size_used_bytes", "V8 heap in use", {}, process.heapUsedBytes)
    s.gauge("nodejs_heap_size_total_bytes", "V8 heap size", {}, process.heapTotalBytes)
    return PrometheusMetrics.formatUnsafe(s.context)
  })
