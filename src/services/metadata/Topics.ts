// Creating, growing and deleting topics, as Kafka's controller does on one node: names and counts validated
// with Kafka's rules and error codes, the change committed to the KRaft metadata log (TopicRecord,
// PartitionRecords, ConfigRecords, RemoveTopicRecord) before anyone sees it, then the partition logs created or
// removed. Used by the admin APIs and by Metadata's auto-creation.
import { Effect } from "effect"
import { partitionRecords, topicRecords, type NewMetadataRecord } from "../../protocol/MetadataRecords.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { ClusterMetadata } from "./ClusterMetadata.ts"
import { ConfigResource, type MetadataImage, type TopicInfo } from "./MetadataImage.ts"
import {
  InvalidPartitions,
  InvalidReplicationFactor,
  InvalidRequest,
  InvalidTopic,
  PolicyViolation,
  TopicAlreadyExists,
  UnknownTopicId,
  UnknownTopicOrPartition
} from "../Errors.ts"
import { LogStore } from "../log/LogStore.ts"
import { Cluster, type ClusterShape, placeReplicas } from "../cluster/Cluster.ts"
import { validateTopicConfigs } from "./TopicConfigs.ts"

/** What creating a topic needs. */
export type Services = BrokerConfig | ClusterMetadata | LogStore

const MAX_NAME_LENGTH = 249

/**
 * The most metadata records one request may write, as Kafka's controller bounds a user operation
 * (QuorumController.MAX_RECORDS_PER_USER_OP): a topic costs one record, each partition and config one more.
 */
export const MAX_RECORDS_PER_REQUEST = 10_000

/** Kafka's answer to a request that would write more than MAX_RECORDS_PER_REQUEST records, for every topic in it. */
export const excessiveRequest = (records: number) =>
  new PolicyViolation({
    detail: `Unable to perform excessively large batch operation: ${records} metadata records, more than ${MAX_RECORDS_PER_REQUEST}`
  })

/** Every partition the image holds. */
export const partitionCount = (image: MetadataImage): number => {
  let n = 0
  for (const t of image.topics.values()) n += t.partitions.length
  return n
}

/** `max.broker.partitions` refuses growth beyond it, so that no request can make the broker hold without bound. */
const checkBrokerPartitions = (image: MetadataImage, adding: number, limit: number) => {
  const held = partitionCount(image)
  return held + adding > limit
    ? Effect.fail(new PolicyViolation({ detail: `${adding} more partitions would exceed max.broker.partitions=${limit} (this broker holds ${held})` }))
    : Effect.void
}

/** Kafka's topic name rule: 1 to 249 characters of `[a-zA-Z0-9._-]`, and neither `.` nor `..`. */
export const topicNameProblem = (name: string): string | undefined => {
  if (name.length === 0) return "the name is empty"
  if (name === "." || name === "..") return `"${name}" is not allowed`
  if (name.length > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters`
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return "only ASCII letters, digits, '.', '_' and '-' are allowed"
  return undefined
}

/**
 * The logs the broker keeps for itself under Kafka's names (committed offsets, transactions, the metadata log):
 * they are not topics of the metadata, so a topic of that name would write over them. Kafka refuses
 * `__cluster_metadata` in the same way.
 */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set(["__consumer_offsets", "__transaction_state", "__cluster_metadata"])

/** '.' and '_' collide in metric names, so Kafka refuses a topic that differs from another only by them. */
const collisionKey = (name: string) => name.replace(/\./g, "_")

export interface NewTopic {
  readonly name: string
  /** -1: `num.partitions`. */
  readonly partitions: number
  /** 1 or -1 (the default): this broker is the only replica. */
  readonly replicationFactor: number
  /** Manual assignments, one replica list per partition; only this node can be named. */
  readonly assignments?: ReadonlyArray<ReadonlyArray<number>>
  readonly configs?: ReadonlyArray<{ readonly name: string; readonly value: string | null }>
}

const newTopicId = (): string => crypto.randomUUID()

/** Creates a topic (or, with `validateOnly`, checks that it could be and describes it unwritten). */
export const createTopic = Effect.fn("Topics.create")(function*(topic: NewTopic, validateOnly = false) {
  const config = yield* BrokerConfig
  const metadata = yield* ClusterMetadata
  const store = yield* LogStore
  const { name } = topic
  yield* Effect.annotateCurrentSpan({ topic: name })

  const problem = topicNameProblem(name)
  if (problem !== undefined) return yield* new InvalidTopic({ topic: name, detail: problem })
  if (INTERNAL_TOPICS.has(name)) return yield* new InvalidRequest({ detail: `Creation of internal topic ${name} is prohibited.` })
  const cluster = yield* Cluster.current
  const nodeIds = cluster.nodeIds
  if (topic.replicationFactor === 0 || topic.replicationFactor < -1 || topic.replicationFactor > nodeIds.length) {
    return yield* new InvalidReplicationFactor({ replicationFactor: topic.replicationFactor, brokers: nodeIds.length })
  }
  const assignments = topic.assignments ?? []
  if (assignments.length > 0 && topic.partitions !== -1) {
    return yield* new InvalidPartitions({ detail: "give either a partition count or replica assignments, not both" })
  }
  const badAssignment = assignmentProblem(assignments, nodeIds)
  if (badAssignment !== undefined) return yield* new InvalidPartitions({ detail: badAssignment })
  const partitions = assignments.length > 0 ? assignments.length : topic.partitions === -1 ? config.numPartitions : topic.partitions
  if (partitions <= 0) return yield* new InvalidPartitions({ detail: `number of partitions must be larger than 0, got ${partitions}` })
  const configs = (topic.configs ?? []).filter((c) => c.value !== null) as ReadonlyArray<{ name: string; value: string }>
  // Checked before anything is built: a count of millions must cost nothing.
  if (1 + partitions + configs.length > MAX_RECORDS_PER_REQUEST) return yield* excessiveRequest(1 + partitions + configs.length)
  yield* validateTopicConfigs(configs)

  const created = yield* metadata.update((image) =>
    Effect.gen(function*() {
      if (image.topics.has(name)) return yield* new TopicAlreadyExists({ topic: name })
      const colliding = [...image.topics.keys()].find((other) => collisionKey(other) === collisionKey(name))
      if (colliding !== undefined) {
        return yield* new InvalidTopic({ topic: name, detail: `it collides with the existing topic ${colliding}` })
      }
      yield* checkBrokerPartitions(image, partitions, config.maxBrokerPartitions)
      const id = newTopicId()
      const records: Array<NewMetadataRecord> = [
        ...topicRecords(name, id, partitions, placement(cluster, name, topic.replicationFactor, assignments), { metadataVersion: metadataVersionOf(image) }),
        ...configs.map((c): NewMetadataRecord => ({
          type: "Config",
          resourceType: ConfigResource.Topic,
          resourceName: name,
          name: c.name,
          value: c.value
        }))
      ]
      const placed = placement(cluster, name, topic.replicationFactor, assignments)
      const info: TopicInfo = {
        name,
        id,
        partitions: Array.from({ length: partitions }, (_, index) => {
          const { replicas, leader } = placed(index)
          return { index, leader, leaderEpoch: 0, partitionEpoch: 0, replicas, isr: replicas }
        }),
        configs: new Map(configs.map((c) => [c.name, c.value]))
      }
      return { records: validateOnly ? [] : records, result: info }
    })
  )
  if (!validateOnly) {
    yield* Effect.forEach(created.partitions, (p) => store.createPartition({ topic: name, partition: p.index }), { discard: true })
    yield* Effect.logInfo(`created topic ${name} (${partitions} partitions, id ${created.id})`)
  }
  return created
})

const metadataVersionOf = (image: MetadataImage) => image.features.get("metadata.version")

/** Why replica assignments cannot be used: a node that is not in the cluster, none, or one named twice. */
const assignmentProblem = (assignments: ReadonlyArray<ReadonlyArray<number>>, nodeIds: ReadonlyArray<number>): string | undefined => {
  for (const replicas of assignments) {
    if (replicas.length === 0) return "a replica assignment names no broker"
    if (new Set(replicas).size !== replicas.length) return `a replica assignment names a broker twice: ${replicas.join(",")}`
    const unknown = replicas.find((n) => !nodeIds.includes(n))
    if (unknown !== undefined) return `replica assignments may name only the brokers ${nodeIds.join(", ")}; ${unknown} is not one`
  }
  return undefined
}

/**
 * Each new partition's replicas and leader: the given assignment, else Kafka's placement over the cluster's nodes
 * (`factor` replicas; -1: every node); the leader is the first live replica, as Kafka elects the preferred one.
 */
const placement = (cluster: ClusterShape, topic: string, factor: number, assignments: ReadonlyArray<ReadonlyArray<number>>) =>
(partition: number) => {
  const replicas = assignments[partition] ?? placeReplicas(topic, partition, cluster.nodeIds).slice(0, factor === -1 ? undefined : factor)
  const live = cluster.live()
  return { replicas, leader: replicas.find((n) => live.includes(n)) ?? replicas[0]! }
}

/** Deletes a topic named by name or id, with its partition logs. */
export const deleteTopic = Effect.fn("Topics.delete")(function*(topic: { readonly name: string } | { readonly id: string }) {
  const metadata = yield* ClusterMetadata
  const store = yield* LogStore
  const removed = yield* metadata.update((image) => {
    const info = "name" in topic ? image.topics.get(topic.name) : image.topicsById.get(topic.id)
    if (info === undefined) {
      return Effect.fail("name" in topic ? new UnknownTopicOrPartition({ topic: topic.name }) : new UnknownTopicId({ topicId: topic.id }))
    }
    return Effect.succeed({ records: [{ type: "RemoveTopic", topicId: info.id } satisfies NewMetadataRecord], result: info })
  })
  yield* Effect.forEach(removed.partitions, (p) => store.deletePartition({ topic: removed.name, partition: p.index }), { discard: true })
  yield* Effect.logInfo(`deleted topic ${removed.name} (id ${removed.id})`)
  return removed
})

/** Grows a topic to `count` partitions. */
export const createPartitions = Effect.fn("Topics.createPartitions")(function*(
  name: string,
  count: number,
  assignments: ReadonlyArray<ReadonlyArray<number>> | null,
  validateOnly = false
) {
  const config = yield* BrokerConfig
  const cluster = yield* Cluster.current
  const metadata = yield* ClusterMetadata
  const store = yield* LogStore
  const grown = yield* metadata.update((image) =>
    Effect.gen(function*() {
      const topic = image.topics.get(name)
      if (topic === undefined) return yield* new UnknownTopicOrPartition({ topic: name })
      const current = topic.partitions.length
      if (count < current) {
        return yield* new InvalidPartitions({ detail: `topic ${name} has ${current} partitions, more than the requested ${count}` })
      }
      if (count === current) return yield* new InvalidPartitions({ detail: `topic ${name} already has ${current} partitions` })
      if (assignments !== null && assignments.length !== count - current) {
        return yield* new InvalidPartitions({ detail: `${assignments.length} assignments for ${count - current} new partitions` })
      }
      const badAssignment = assignmentProblem(assignments ?? [], cluster.nodeIds)
      if (badAssignment !== undefined) return yield* new InvalidPartitions({ detail: badAssignment })
      const factor = topic.partitions[0]?.replicas.length ?? -1
      if (count - current > MAX_RECORDS_PER_REQUEST) return yield* excessiveRequest(count - current)
      yield* checkBrokerPartitions(image, count - current, config.maxBrokerPartitions)
      // The TopicRecord and the existing partitions are already in the log: only the new PartitionRecords go in.
      const given = assignments ?? []
      const place = (p: number) =>
        p - current < given.length ? placement(cluster, name, factor, [given[p - current]!])(0) : placement(cluster, name, factor, [])(p)
      const records = partitionRecords(topic.id, current, count, place, { metadataVersion: metadataVersionOf(image) })
      return { records: validateOnly ? [] : records, result: { topic, from: current } }
    })
  )
  if (!validateOnly) {
    for (let partition = grown.from; partition < count; partition++) yield* store.createPartition({ topic: name, partition })
    yield* Effect.logInfo(`topic ${name} grown from ${grown.from} to ${count} partitions`)
  }
})
