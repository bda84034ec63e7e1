// Client quotas as the metadata log keeps them, the pure core of AlterClientQuotas and DescribeClientQuotas,
// following Kafka's ClientQuotaControlManager and ClientQuotasImage. An entity is a set of (type, name) parts:
// `user`, `client-id` or `ip`, a null name meaning the default entity of that type. User and client-id entities
// take `producer_byte_rate`, `consumer_byte_rate` (whole numbers), `request_percentage` and
// `controller_mutation_rate`; ip entities take `connection_creation_rate` (a whole number). Every value is
// above 0. Alterations become ClientQuotaRecords, one per key whose value changes.
import type { NewMetadataRecord } from "../../protocol/MetadataRecords.ts"
import { InvalidRequest, UnsupportedVersion } from "../Errors.ts"
import { type ClientQuota, type MetadataImage, type QuotaEntityPart, quotaEntityKey } from "../metadata/MetadataImage.ts"

export const USER = "user"
export const CLIENT_ID = "client-id"
export const IP = "ip"

export const PRODUCER_BYTE_RATE = "producer_byte_rate"
export const CONSUMER_BYTE_RATE = "consumer_byte_rate"

/** How Kafka's ConfigDef types each key: integral keys refuse fractions and values beyond their type. */
type KeyType = "LONG" | "INT" | "DOUBLE"

const USER_AND_CLIENT_KEYS: ReadonlyMap<string, KeyType> = new Map([
  [PRODUCER_BYTE_RATE, "LONG"],
  [CONSUMER_BYTE_RATE, "LONG"],
  ["request_percentage", "DOUBLE"],
  ["controller_mutation_rate", "DOUBLE"]
])

const IP_KEYS: ReadonlyMap<string, KeyType> = new Map([["connection_creation_rate", "INT"]])

/** An entity as Kafka's ClientQuotaEntity prints it in messages. */
export const showEntity = (entity: ReadonlyArray<QuotaEntityPart>): string =>
  `ClientQuotaEntity(entries={${entity.map((p) => `${p.entityType}=${p.entityName}`).join(", ")}})`

// ---------------------------------------------------------------------------------------------------------
// Altering

export interface QuotaOp {
  readonly key: string
  readonly value: number
  readonly remove: boolean
}

export interface Alteration {
  readonly entity: ReadonlyArray<QuotaEntityPart>
  readonly ops: ReadonlyArray<QuotaOp>
}

export interface AlterationResult {
  /** The entity as the request named it (first occurrence). */
  readonly entity: ReadonlyArray<QuotaEntityPart>
  readonly error: InvalidRequest | undefined
}

/** An IPv4 or IPv6 literal (Kafka also accepts a host name it can resolve; this broker does not resolve names). */
const isIpLiteral = (ip: string): boolean => {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip)
  if (v4 !== null) return v4.slice(1).every((n) => Number(n) <= 255)
  return ip.includes(":") && /^[0-9A-Fa-f:.]+$/.test(ip) && ip.split("::").length <= 2
}

/** The keys an entity may have, or why the entity cannot have quotas. */
const keysFor = (entity: ReadonlyArray<QuotaEntityPart>): ReadonlyMap<string, KeyType> | InvalidRequest => {
  if (entity.length === 0) return new InvalidRequest({ detail: "Invalid empty client quota entity" })
  const seen = new Set<string>()
  for (const { entityType, entityName } of entity) {
    if (seen.has(entityType)) {
      return new InvalidRequest({ detail: `Invalid client quota entity, duplicate entity entry ${entityType}` })
    }
    seen.add(entityType)
    if (entityType !== USER && entityType !== CLIENT_ID && entityType !== IP) {
      return new InvalidRequest({ detail: `Unhandled client quota entity type: ${entityType}` })
    }
    if (entityName === "") return new InvalidRequest({ detail: `Empty ${entityType} not supported` })
  }
  if (!seen.has(IP)) return USER_AND_CLIENT_KEYS
  if (seen.size > 1) {
    return new InvalidRequest({
      detail: "Invalid quota entity combination, IP entity should not be combined with User or ClientId"
    })
  }
  const ip = entity[0]!.entityName
  if (ip !== null && !isIpLiteral(ip)) return new InvalidRequest({ detail: `${ip} is not a valid IP or resolvable host.` })
  return IP_KEYS
}

const checkValue = (keys: ReadonlyMap<string, KeyType>, key: string, value: number): InvalidRequest | undefined => {
  const type = keys.get(key)
  if (type === undefined) return new InvalidRequest({ detail: `Invalid configuration key ${key}` })
  if (!(value > 0)) return new InvalidRequest({ detail: `Quota ${key} must be greater than 0` })
  if (type === "DOUBLE") return undefined
  if (type === "INT" && value > 2147483647) {
    return new InvalidRequest({ detail: `Proposed value for ${key} is too large for an INT.` })
  }
  if (type === "LONG" && value > 9223372036854775807) {
    return new InvalidRequest({ detail: `Proposed value for ${key} is too large for a LONG.` })
  }
  if (Math.abs(value % 1) > 1e-6) return new InvalidRequest({ detail: `${key} cannot be a fractional value.` })
  return undefined
}

/** The records one entity's ops write, or why the entity is refused (then nothing of it is written). */
const alterEntity = (current: ClientQuota | undefined, alteration: Alteration): Array<NewMetadataRecord> | InvalidRequest => {
  const keys = keysFor(alteration.entity)
  if (keys instanceof InvalidRequest) return keys
  const ops = new Map<string, QuotaOp>()
  for (const op of alteration.ops) {
    if (ops.has(op.key)) {
      return new InvalidRequest({
        detail: `Duplicate quota key ${op.key} not updating quota for this entity ${showEntity(alteration.entity)}`
      })
    }
    ops.set(op.key, op)
  }
  const records: Array<NewMetadataRecord> = []
  const entity = alteration.entity.map(({ entityType, entityName }) => ({ entityType, entityName }))
  for (const op of ops.values()) {
    if (op.remove) {
      // Removing what is not there writes nothing, and is no error.
      if (current?.values.has(op.key)) records.push({ type: "ClientQuota", entity, key: op.key, value: 0, remove: true })
      continue
    }
    const invalid = checkValue(keys, op.key, op.value)
    if (invalid !== undefined) return invalid
    // Only a value that changes is written.
    if (current?.values.get(op.key) !== op.value) {
      records.push({ type: "ClientQuota", entity, key: op.key, value: op.value, remove: false })
    }
  }
  return records
}

/**
 * What AlterClientQuotas writes and answers: one result per distinct entity, in the order the request first
 * names them. An entity named twice is refused, and so is its first alteration (Kafka refuses it and still
 * applies the first; here an error always means nothing of the entity changed).
 */
export const alterQuotas = (
  image: MetadataImage,
  alterations: ReadonlyArray<Alteration>
): { readonly records: Array<NewMetadataRecord>; readonly results: Array<AlterationResult> } => {
  const outcomes = new Map<string, { entity: ReadonlyArray<QuotaEntityPart>; outcome: Array<NewMetadataRecord> | InvalidRequest }>()
  for (const alteration of alterations) {
    const key = quotaEntityKey(alteration.entity)
    const earlier = outcomes.get(key)
    if (earlier !== undefined) {
      earlier.outcome = new InvalidRequest({ detail: `Ignoring duplicate entity ${showEntity(alteration.entity)}` })
      continue
    }
    outcomes.set(key, { entity: alteration.entity, outcome: alterEntity(image.clientQuotas.get(key), alteration) })
  }
  const records: Array<NewMetadataRecord> = []
  const results: Array<AlterationResult> = []
  for (const { entity, outcome } of outcomes.values()) {
    if (outcome instanceof InvalidRequest) {
      results.push({ entity, error: outcome })
    } else {
      records.push(...outcome)
      results.push({ entity, error: undefined })
    }
  }
  return { records, results }
}

// ---------------------------------------------------------------------------------------------------------
// Describing

/** DescribeClientQuotas match types. */
export const MatchType = { Exact: 0, Default: 1, Any: 2 } as const

export interface FilterComponent {
  readonly entityType: string
  readonly matchType: number
  readonly match: string | null
}

/**
 * The quotas of the entities matching every component (an exact name, the default entity, or any named or
 * default entity of a type); with `strict`, entities with types the filter does not name are left out.
 */
export const describeQuotas = (
  image: MetadataImage,
  components: ReadonlyArray<FilterComponent>,
  strict: boolean
): Array<ClientQuota> | InvalidRequest | UnsupportedVersion => {
  const exact = new Map<string, string | null>()
  const any = new Set<string>()
  for (const { entityType, matchType, match } of components) {
    if (entityType === "") return new InvalidRequest({ detail: "Invalid empty entity type." })
    if (exact.has(entityType) || any.has(entityType)) {
      return new InvalidRequest({ detail: `Entity type ${entityType} cannot appear more than once in the filter.` })
    }
    if (entityType !== USER && entityType !== CLIENT_ID && entityType !== IP) {
      return new UnsupportedVersion({ detail: `Unsupported entity type ${entityType}` })
    }
    switch (matchType) {
      case MatchType.Exact:
        if (match === null) {
          return new InvalidRequest({ detail: "Request specified MATCH_TYPE_EXACT, but set match string to null." })
        }
        exact.set(entityType, match)
        break
      case MatchType.Default:
        if (match !== null) {
          return new InvalidRequest({ detail: "Request specified MATCH_TYPE_DEFAULT, but also specified a match string." })
        }
        exact.set(entityType, null)
        break
      case MatchType.Any:
        if (match !== null) {
          return new InvalidRequest({ detail: "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string." })
        }
        any.add(entityType)
        break
      default:
        return new InvalidRequest({ detail: `Unknown match type ${matchType}` })
    }
  }
  const named = (type: string) => exact.has(type) || any.has(type)
  if (named(IP) && (named(USER) || named(CLIENT_ID))) {
    return new InvalidRequest({
      detail: "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component."
    })
  }
  const out: Array<ClientQuota> = []
  for (const quota of image.clientQuotas.values()) {
    const parts = new Map(quota.entity.map((p) => [p.entityType, p.entityName]))
    if (strict && parts.size !== exact.size + any.size) continue
    let matches = true
    for (const [type, name] of exact) if (!parts.has(type) || parts.get(type) !== name) matches = false
    for (const type of any) if (!parts.has(type)) matches = false
    if (matches) out.push(quota)
  }
  return out
}
