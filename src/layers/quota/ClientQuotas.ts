// The live ClientQuotas: one sampled rate per sensor (the user / client-id tags a quota measures together),
// made when a client first moves bytes under a quota, forgotten after an hour without traffic as Kafka's quota
// sensors are. The quota in force is read from the current metadata image on every call, so AlterClientQuotas
// applies from the next request on.
import { Clock, Effect, Layer } from "effect"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import { ClusterMetadata } from "../../services/metadata/ClusterMetadata.ts"
import { ClientQuotas, type QuotaClient, type QuotaKind } from "../../services/quota/ClientQuotas.ts"
import { CONSUMER_BYTE_RATE, PRODUCER_BYTE_RATE } from "../../services/quota/QuotaEntities.ts"
import { resolveQuota, type RateWindow, SampledRate, throttleTimeMs } from "../../services/quota/Rates.ts"

/** Kafka's quota sensors expire after an hour without traffic. */
const SENSOR_EXPIRY_MS = 3_600_000
/** Idle sensors are looked for once this many exist. */
const PRUNE_ABOVE = 1024

const keyOf = (kind: QuotaKind) => (kind === "produce" ? PRODUCER_BYTE_RATE : CONSUMER_BYTE_RATE)

export const make = Effect.gen(function*() {
  const config = yield* BrokerConfig
  const metadata = yield* ClusterMetadata
  const window: RateWindow = { samples: config.quotaWindowNum, windowMs: config.quotaWindowSizeSeconds * 1000 }
  const sensors = new Map<string, SampledRate>()

  const sensorOf = (name: string, now: number): SampledRate => {
    let rate = sensors.get(name)
    if (rate === undefined) {
      if (sensors.size >= PRUNE_ABOVE) {
        for (const [n, r] of sensors) if (now - r.lastRecordMs >= SENSOR_EXPIRY_MS) sensors.delete(n)
      }
      rate = new SampledRate(window)
      sensors.set(name, rate)
    }
    return rate
  }

  // Every request passes here: plain steps, and nothing more without a quota.
  const record = (kind: QuotaKind, client: QuotaClient, bytes: number) =>
    Effect.flatMap(metadata.image, (image) => {
      const quota = resolveQuota(image, keyOf(kind), client.user, client.clientId)
      if (quota === undefined) return Effect.succeed(0)
      return Effect.map(Clock.currentTimeMillis, (now) => {
        const rate = sensorOf(quota.sensor, now)
        rate.record(bytes, now)
        return throttleTimeMs(rate, quota.bound, now)
      })
    })

  const unrecord = (kind: QuotaKind, client: QuotaClient, bytes: number) =>
    Effect.gen(function*() {
      const quota = resolveQuota(yield* metadata.image, keyOf(kind), client.user, client.clientId)
      const rate = quota === undefined ? undefined : sensors.get(quota.sensor)
      if (rate !== undefined) rate.record(-bytes, yield* Clock.currentTimeMillis)
    })

  const maxBytesInWindow = (kind: QuotaKind, client: QuotaClient) =>
    Effect.map(metadata.image, (image) => {
      const quota = resolveQuota(image, keyOf(kind), client.user, client.clientId)
      return quota === undefined ? Infinity : quota.bound * (window.samples - 1) * config.quotaWindowSizeSeconds
    })

  return ClientQuotas.of({ record, unrecord, maxBytesInWindow })
})

export const layer = Layer.effect(ClientQuotas, make)
