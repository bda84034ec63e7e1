// The measuring side of client quotas, pure: which quota applies to a client and whose traffic it adds up
// (Kafka's DefaultQuotaCallback), and the rate of that traffic over sampled windows with the time a client over
// its quota is throttled for (Kafka's Sensor with a Rate over SampledStat, and QuotaUtils.throttleTime).
import type { MetadataImage } from "../metadata/MetadataImage.ts"
import { CLIENT_ID, USER } from "./QuotaEntities.ts"

// ---------------------------------------------------------------------------------------------------------
// Which quota

export interface ResolvedQuota {
  /** Whose traffic is measured together: the (user, client-id) tags of Kafka's quota sensor. */
  readonly sensor: string
  /** Bytes per second. */
  readonly bound: number
}

/** The user and client-id entities holding `key`: "<user>|<client>" with `*` for a default and `-` for absent. */
type Index = ReadonlyMap<string, number>

const indexes = new WeakMap<MetadataImage["clientQuotas"], Map<string, Index>>()

const part = (name: string | null | undefined): string => (name === undefined ? "-" : name === null ? "*" : `=${name}`)
const slot = (user: string | null | undefined, client: string | null | undefined) => `${part(user)}|${part(client)}`

/** The user / client-id entities that set `key`, worked out once per image. */
const indexOf = (image: MetadataImage, key: string): Index => {
  let byKey = indexes.get(image.clientQuotas)
  if (byKey === undefined) {
    byKey = new Map()
    indexes.set(image.clientQuotas, byKey)
  }
  let index = byKey.get(key)
  if (index === undefined) {
    const built = new Map<string, number>()
    for (const { entity, values } of image.clientQuotas.values()) {
      const value = values.get(key)
      if (value === undefined || entity.some((p) => p.entityType !== USER && p.entityType !== CLIENT_ID)) continue
      const user = entity.find((p) => p.entityType === USER)
      const client = entity.find((p) => p.entityType === CLIENT_ID)
      built.set(slot(user?.entityName, client?.entityName), value)
    }
    index = built
    byKey.set(key, index)
  }
  return index
}

/**
 * The quota `key` (`producer_byte_rate`, `consumer_byte_rate`) that applies to `user` with `clientId`, and the
 * sensor its traffic counts on, as Kafka resolves them: the most specific of user + client-id, user + default
 * client-id, user, default user + client-id, default user + default client-id, default user, client-id,
 * default client-id. Undefined when no quota applies.
 */
export const resolveQuota = (image: MetadataImage, key: string, user: string, clientId: string): ResolvedQuota | undefined => {
  if (image.clientQuotas.size === 0) return undefined
  const index = indexOf(image, key)
  if (index.size === 0) return undefined
  const has = (u: string | null | undefined, c: string | null | undefined) => index.has(slot(u, c))
  // The sensor's tags (Kafka's quotaMetricTags), then the quota for those tags (quotaLimit).
  let tags: readonly [string, string]
  if (has(user, clientId) || has(user, null)) tags = [user, clientId]
  else if (has(user, undefined)) tags = [user, ""]
  else if (has(null, clientId) || has(null, null)) tags = [user, clientId]
  else if (has(null, undefined)) tags = [user, ""]
  else tags = ["", clientId]
  const [u, c] = tags
  const candidates: ReadonlyArray<readonly [string | null | undefined, string | null | undefined]> = u !== "" && c !== ""
    ? [[u, c], [u, null], [null, c], [null, null]]
    : u !== ""
    ? [[u, undefined], [null, undefined]]
    : c !== ""
    ? [[undefined, c], [undefined, null]]
    : []
  for (const [cu, cc] of candidates) {
    const bound = index.get(slot(cu, cc))
    if (bound !== undefined) return { sensor: JSON.stringify([key, u, c]), bound }
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------
// How fast

export interface RateWindow {
  /** Samples kept (`quota.window.num`). */
  readonly samples: number
  /** Length of one sample (`quota.window.size.seconds`), in milliseconds. */
  readonly windowMs: number
}

interface Sample {
  start: number
  value: number
}

/**
 * A rate over the last `samples` windows, as Kafka's Rate: the total of the samples not yet expired, divided by
 * the time they span, counted as at least `samples - 1` whole windows (a new client's first burst is spread over
 * that much time, not over the milliseconds it took).
 */
export class SampledRate {
  private readonly samples: Array<Sample> = []
  private current = 0
  /** When something was last recorded (idle sensors are forgotten). */
  lastRecordMs = 0

  private readonly window: RateWindow

  constructor(window: RateWindow) {
    this.window = window
  }

  record(value: number, now: number): void {
    this.lastRecordMs = now
    if (this.samples.length === 0) this.samples.push({ start: now, value: 0 })
    let sample = this.samples[this.current]!
    if (now - sample.start >= this.window.windowMs) {
      this.current = (this.current + 1) % this.window.samples
      if (this.current >= this.samples.length) {
        sample = { start: now, value: 0 }
        this.samples.push(sample)
      } else {
        sample = this.samples[this.current]!
        sample.start = now
        sample.value = 0
      }
    }
    sample.value += value
  }

  /** Samples older than the whole window count for nothing. */
  private purge(now: number): void {
    const expireAge = this.window.samples * this.window.windowMs
    for (const s of this.samples) {
      if (now - s.start >= expireAge) {
        s.start = now
        s.value = 0
      }
    }
  }

  /** The time the rate is taken over, in milliseconds. */
  windowSize(now: number): number {
    this.purge(now)
    if (this.samples.length === 0) this.samples.push({ start: now, value: 0 })
    let oldest = this.samples[0]!.start
    for (const s of this.samples) oldest = Math.min(oldest, s.start)
    let elapsed = now - oldest
    const fullWindows = Math.floor(elapsed / this.window.windowMs)
    const minFullWindows = this.window.samples - 1
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * this.window.windowMs
    return Math.max(elapsed, 1)
  }

  /** Per second. */
  measure(now: number): number {
    this.purge(now)
    let total = 0
    for (const s of this.samples) total += s.value
    return total / (this.windowSize(now) / 1000)
  }
}

/**
 * How long a client whose rate is `rate` must pause to bring it back to `bound` over the window: the X of
 * rate * W / (W + X) = bound (Kafka's QuotaUtils.throttleTime). 0 when within the bound.
 */
export const throttleTimeMs = (rate: SampledRate, bound: number, now: number): number => {
  const observed = rate.measure(now)
  if (observed <= bound) return 0
  return Math.round(((observed - bound) / bound) * rate.windowSize(now))
}
