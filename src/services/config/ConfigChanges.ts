// Changing configs, as Kafka's controller does for AlterConfigs (the resource's configs replaced by the given
// set) and IncrementalAlterConfigs (per key SET, DELETE, APPEND, SUBTRACT; the last two for list configs only).
// Topics: the result is checked as CreateTopics checks configs, and written as ConfigRecords (null values for
// removed keys), applied from the next request on. The broker (resource name "" for the cluster-wide default,
// or this node's id): only the dynamic keys (services/config/DynamicConfigs.ts), each value checked by parsing
// the configuration it would give; a key set to the value it has is written again (Kafka's KAFKA-14136), so that
// setting a keystore's path anew reloads a certificate rotated in place. SSL keys are a node's only, and the
// listeners' certificates must load with them. `validate_only` checks and writes nothing.
import { Effect } from "effect"
import type { ConnectionInfo } from "../api/Handler.ts"
import { Authorization, configResourceRefusal } from "../auth/Authorization.ts"
import { AclOperation } from "../auth/Authorizer.ts"
import type { NewMetadataRecord } from "../../protocol/MetadataRecords.ts"
import { InvalidConfigChange, InvalidRequest, InvalidTopic, InvalidTopicConfig, StorageError, UnknownTopicOrPartition } from "../Errors.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { ConfigResource, type MetadataImage } from "../metadata/MetadataImage.ts"
import { BY_NAME, validateTopicConfigs } from "../metadata/TopicConfigs.ts"
import { topicNameProblem } from "../metadata/Topics.ts"
import { BrokerConfig, type BrokerConfigShape } from "./BrokerConfig.ts"
import { ConfigType } from "./ConfigEntries.ts"
import { Certificates } from "../network/Certificates.ts"
import { CLUSTER_DEFAULT, isDynamicKey, isDynamicSslKey, withDynamic } from "./DynamicConfigs.ts"

/** IncrementalAlterConfigs' operations. */
export const OpType = { Set: 0, Delete: 1, Append: 2, Subtract: 3 } as const

export interface ConfigOp {
  readonly name: string
  readonly op: number
  readonly value: string | null
}

export interface ResourceChange {
  readonly resourceType: number
  readonly resourceName: string
  /** AlterConfigs: the configs become exactly these (SET each, DELETE the rest). */
  readonly replace: boolean
  readonly ops: ReadonlyArray<ConfigOp>
}

export type ChangeError = InvalidRequest | InvalidConfigChange | InvalidTopicConfig | InvalidTopic | UnknownTopicOrPartition | StorageError

const isList = (resourceType: number, name: string) => resourceType === ConfigResource.Topic && BY_NAME.get(name)?.type === ConfigType.LIST

/** The configs after the operations, from `current` (`fallback`: a list config's value when not set). */
const applyOps = (
  change: ResourceChange,
  current: ReadonlyMap<string, string>,
  fallback: (name: string) => string
): Effect.Effect<Map<string, string>, InvalidRequest | InvalidConfigChange> =>
  Effect.gen(function*() {
    const names = change.ops.map((o) => o.name)
    if (new Set(names).size !== names.length) return yield* new InvalidRequest({ detail: "Error due to duplicate config keys" })
    const out = new Map(change.replace ? [] : current)
    for (const { name, op, value } of change.ops) {
      if (op !== OpType.Delete && value === null) return yield* new InvalidRequest({ detail: `Null value not supported for : ${name}` })
      switch (op) {
        case OpType.Set:
          out.set(name, value!)
          break
        case OpType.Delete:
          out.delete(name)
          break
        case OpType.Append:
        case OpType.Subtract: {
          if (!isList(change.resourceType, name)) {
            return yield* new InvalidConfigChange({ detail: `Config value ${op === OpType.Append ? "append" : "subtract"} is not allowed for config key: ${name}` })
          }
          const items = (out.get(name) ?? fallback(name)).split(",").map((v) => v.trim()).filter((v) => v.length > 0)
          const given = value!.split(",").map((v) => v.trim()).filter((v) => v.length > 0)
          const next = op === OpType.Append ? [...items, ...given.filter((v) => !items.includes(v))] : items.filter((v) => !given.includes(v))
          out.set(name, next.join(","))
          break
        }
        default:
          return yield* new InvalidRequest({ detail: `unknown config operation ${op} for ${name}` })
      }
    }
    return out
  })

/** The records that take `current` to `next` for a resource, and rewrite the keys in `again` even unchanged. */
const diff = (
  resourceType: number,
  resourceName: string,
  current: ReadonlyMap<string, string>,
  next: ReadonlyMap<string, string>,
  again: ReadonlySet<string> = new Set()
) => {
  const records: Array<NewMetadataRecord> = []
  for (const [name, value] of next) {
    if (current.get(name) !== value || again.has(name)) records.push({ type: "Config", resourceType, resourceName, name, value })
  }
  for (const name of current.keys()) if (!next.has(name)) records.push({ type: "Config", resourceType, resourceName, name, value: null })
  return records
}

const noConfigs: ReadonlyMap<string, string> = new Map()

/** The records of a change, checked against the image (and the static configuration for broker keys). */
const plan = (config: BrokerConfigShape, image: MetadataImage, change: ResourceChange) =>
  Effect.gen(function*(): Effect.fn.Return<Array<NewMetadataRecord>, Exclude<ChangeError, StorageError>> {
    const { resourceType, resourceName } = change
    switch (resourceType) {
      case ConfigResource.Topic: {
        const problem = topicNameProblem(resourceName)
        if (problem !== undefined) return yield* new InvalidTopic({ topic: resourceName, detail: problem })
        const topic = image.topics.get(resourceName)
        if (topic === undefined) return yield* new UnknownTopicOrPartition({ topic: resourceName })
        const next = yield* applyOps(change, topic.configs, (name) => BY_NAME.get(name)?.kafkaDefault ?? "")
        yield* validateTopicConfigs([...next].map(([name, value]) => ({ name, value })))
        return diff(resourceType, resourceName, topic.configs, next)
      }
      case ConfigResource.Broker: {
        const own = /^[+-]?\d+$/.test(resourceName) && Number(resourceName) === config.nodeId
        if (resourceName !== CLUSTER_DEFAULT && !own) {
          return yield* new InvalidRequest({
            detail: /^[+-]?\d+$/.test(resourceName)
              ? `unexpected broker id ${resourceName}: this is broker ${config.nodeId} (or use the empty name for the cluster default)`
              : `broker id must be an integer, got "${resourceName}"`
          })
        }
        // Kafka keys a node's configs by its id as written ("1"), which is also how the image is read.
        const key = own ? String(config.nodeId) : CLUSTER_DEFAULT
        const current = image.brokerConfigs.get(key) ?? noConfigs
        const next = yield* applyOps(change, current, () => "")
        const fixed = [...next.keys()].filter((name) => !isDynamicKey(name))
        if (fixed.length > 0) return yield* new InvalidConfigChange({ detail: `Cannot update these configs dynamically: ${fixed.join(", ")}` })
        const ssl = change.ops.some((o) => isDynamicSslKey(o.name))
        if (!own && ssl) {
          const keys = change.ops.map((o) => o.name).filter(isDynamicSslKey)
          return yield* new InvalidConfigChange({
            detail: `Cannot update these configs at default cluster level, broker id must be specified: ${keys.join(", ")}`
          })
        }
        const cluster = own ? image.brokerConfigs.get(CLUSTER_DEFAULT) ?? noConfigs : next
        const node = own ? next : image.brokerConfigs.get(String(config.nodeId)) ?? noConfigs
        const effective = yield* withDynamic(config, cluster, node).pipe(Effect.mapError((e) => new InvalidConfigChange({ detail: e.message })))
        if (ssl) yield* checkCertificates(effective)
        const set = change.ops.filter((o) => o.op === OpType.Set).map((o) => o.name)
        return diff(resourceType, key, current, next, new Set(set))
      }
      default:
        return yield* new InvalidRequest({ detail: `unsupported resource type ${resourceType}` })
    }
  })

/** The TLS listeners' certificates load with the configuration (where the listener serves requests). */
const checkCertificates = (effective: BrokerConfigShape) =>
  Effect.flatMap(Effect.serviceOption(Certificates), (certificates) =>
    certificates._tag === "None"
      ? Effect.void
      : Effect.forEach(
        effective.listeners.filter((l) => l.protocol === "SSL" || l.protocol === "SASL_SSL"),
        (l) => certificates.value.check(l).pipe(Effect.mapError((e) => new InvalidConfigChange({ detail: `Invalid TLS settings: ${e.message}` }))),
        { discard: true }
      ))

/** Checks and, unless `validateOnly`, commits one resource's change; one that sets SSL keys reloads the certificates. */
export const changeConfigs = (change: ResourceChange, validateOnly: boolean) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const metadata = yield* ClusterMetadata
    if (validateOnly) {
      yield* plan(config, yield* metadata.image, change)
      return
    }
    yield* metadata.update((image) => Effect.map(plan(config, image, change), (records) => ({ records, result: undefined })))
    if (change.resourceType === ConfigResource.Broker && change.ops.some((o) => isDynamicSslKey(o.name))) {
      const certificates = yield* Effect.serviceOption(Certificates)
      if (certificates._tag === "Some") {
        yield* certificates.value.reload.pipe(Effect.catch((e) => Effect.logError(`TLS reload failed: ${e.message}`)))
      }
    }
  })

/**
 * The answer of AlterConfigs or IncrementalAlterConfigs: each resource changed on its own, those named more than
 * once in the request each refused, as Kafka does.
 */
export const changeEach = (changes: ReadonlyArray<ResourceChange>, validateOnly: boolean) => {
  const count = new Map<string, number>()
  const keyOf = (c: ResourceChange) => `${c.resourceType}:${c.resourceName}`
  for (const c of changes) count.set(keyOf(c), (count.get(keyOf(c)) ?? 0) + 1)
  return Effect.forEach(changes, (c) => {
    const { resourceType, resourceName } = c
    const change = count.get(keyOf(c))! > 1
      ? Effect.fail(new InvalidRequest({ detail: "Each resource must appear at most once." }))
      : changeConfigs(c, validateOnly)
    return change.pipe(
      Effect.as({ errorCode: 0, errorMessage: null as string | null, resourceType, resourceName }),
      Effect.catch((e) => Effect.succeed({ errorCode: e.code as number, errorMessage: e.message as string | null, resourceType, resourceName }))
    )
  })
}

/**
 * AlterConfigs and IncrementalAlterConfigs as the connection's principal: a resource without ALTER_CONFIGS
 * (on the topic, or the cluster for a broker) answers 29 or 31; the others are changed as `changeEach` does.
 */
export const changeAuthorized = (connection: ConnectionInfo, changes: ReadonlyArray<ResourceChange>, validateOnly: boolean) =>
  Effect.gen(function*() {
    const check = yield* Authorization.current
    const refusals = changes.map((c) => configResourceRefusal(check, connection, AclOperation.ALTER_CONFIGS, c.resourceType, c.resourceName))
    const changed = yield* changeEach(changes.filter((_, i) => refusals[i] === 0), validateOnly)
    let next = 0
    return changes.map((c, i) =>
      refusals[i] === 0
        ? changed[next++]!
        : {
          errorCode: refusals[i]!,
          errorMessage: (refusals[i] === 29 ? "Topic authorization failed." : "Cluster authorization failed.") as string | null,
          resourceType: c.resourceType,
          resourceName: c.resourceName
        }
    )
  })
