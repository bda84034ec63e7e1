// CreateTopics v0-v7. Names as Kafka validates them (17), an existing name (36), a partition count ≤ 0 (37;
// -1 means `num.partitions`), a replication factor other than 1 or -1 (38), an unknown topic config or bad
// value (40), a name given twice in one request or one of the broker's own logs (`__consumer_offsets`, ...: 42).
// A request that would write more than 10,000 metadata records (a topic, its partitions and configs count one
// each) fails for every topic with 44, as Kafka's controller refuses an excessively large operation.
// `validate_only` checks everything and writes nothing.
// From v5 the answer carries the partition count, replication factor and every config of the topic; v7 its id.
import { Effect } from "effect"
import { ZERO_UUID } from "../../protocol/Bytes.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { CreateTopics } from "../../protocol/messages/CreateTopics.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { dynamicOf, effectiveConfig } from "../config/DynamicConfigs.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { describeTopicConfigs } from "../metadata/TopicConfigs.ts"
import { createTopic, excessiveRequest, MAX_RECORDS_PER_REQUEST, topicNameProblem } from "../metadata/Topics.ts"

type TopicResult = ResponseOf<typeof CreateTopics>["topics"][number]

export const make = handler(CreateTopics, "0-7", (request, context) =>
  Effect.gen(function*() {
    // CREATE on the cluster, else on each topic (29 for those without it).
    const check = yield* Authorization.current
    const clusterCreate = !check.denied(context.connection, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME)
    const createDenied = (name: string) =>
      !clusterCreate && check.denied(context.connection, AclOperation.CREATE, ResourceType.TOPIC, name)
    const config = yield* BrokerConfig
    const image = yield* (yield* ClusterMetadata).image
    const live = effectiveConfig(config, image)
    const counts = new Map<string, number>()
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1)

    const failed = (name: string, errorCode: number, errorMessage: string | null): TopicResult => ({
      name,
      topicId: ZERO_UUID,
      errorCode,
      errorMessage,
      numPartitions: -1,
      replicationFactor: -1,
      configs: null
    })

    const duplicate = (name: string) => failed(name, ErrorCode.INVALID_REQUEST, `topic ${name} appears more than once in the request`)

    // The records the request would write, counted before anything is built or checked further.
    let records = 0
    for (const t of request.topics) {
      if (counts.get(t.name)! > 1 || topicNameProblem(t.name) !== undefined) continue
      const partitions = t.assignments.length > 0 ? t.assignments.length : t.numPartitions === -1 ? config.numPartitions : t.numPartitions
      if (partitions > 0) records += 1 + partitions + t.configs.length
    }
    if (records > MAX_RECORDS_PER_REQUEST) {
      const e = excessiveRequest(records)
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => counts.get(t.name)! > 1 ? duplicate(t.name) : failed(t.name, e.code, e.message))
      }
    }

    const topics = yield* Effect.forEach(request.topics, (t) => {
      if (counts.get(t.name)! > 1) return Effect.succeed<TopicResult>(duplicate(t.name))
      if (createDenied(t.name)) {
        return Effect.succeed<TopicResult>(failed(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed."))
      }
      return createTopic({
        name: t.name,
        partitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: t.assignments.map((a) => a.brokerIds),
        configs: t.configs
      }, request.validateOnly).pipe(
        Effect.map((topic): TopicResult => ({
          name: topic.name,
          topicId: topic.id,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          numPartitions: topic.partitions.length,
          replicationFactor: 1,
          configs: describeTopicConfigs(live, topic.configs, dynamicOf(config, image)).map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: false,
            configSource: c.source,
            isSensitive: false
          }))
        })),
        Effect.catch((e) => Effect.succeed(failed(t.name, e.code, e.message)))
      )
    })
    return { throttleTimeMs: 0, topics }
  }))
