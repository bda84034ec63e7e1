// Metadata v0-v12. One broker, this node, is the controller and leads every partition with itself as the only
// replica. Its address is `advertised.listeners`, else the listener, with a wildcard host answered as the
// address this client connected to. Topic lists: in v0 an empty list means all topics; from v1 null means all
// and an empty list none. From v10 topics may be named by id. An unknown topic is created with `num.partitions`
// when `auto.create.topics.enable` is on and the request allows it (v4+), and answered at once.
// With an authorizer, as Kafka: a topic without DESCRIBE is left out of a list-all answer, answered 29 when named
// (by id too, without its name), and auto-creation needs CREATE on the cluster or the topic (else 29); the authorized
// operations asked for are the ones the principal holds.
import { Effect } from "effect"
import { ZERO_UUID } from "../../protocol/Bytes.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { Metadata } from "../../protocol/messages/Metadata.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { sortedTopics, type TopicInfo } from "../metadata/MetadataImage.ts"
import { handler } from "./Handler.ts"
import * as Topics from "../metadata/Topics.ts"
import { createTopic, topicNameProblem } from "../metadata/Topics.ts"
import { describePartition, OPERATIONS_NOT_REQUESTED } from "./lookup.ts"
import { Authorization, authorizedOperations } from "../auth/Authorization.ts"
import { Cluster, controllerOf } from "../cluster/Cluster.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"

type TopicResponse = ResponseOf<typeof Metadata>["topics"][number]


/** The host and port clients should use to reach this broker over the given connection. */
export const make = handler(Metadata, "0-12", (request, context) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const metadata = yield* ClusterMetadata
    const image = yield* metadata.image
    const version = context.apiVersion
    const check = yield* Authorization.current
    const cluster = yield* Cluster.current
    const live = cluster.live()
    const canDescribe = (name: string) =>
      !check.enabled || check.can(context.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, name)
    const topicOperations = (name: string) =>
      authorizedOperations(check, context.connection, request.includeTopicAuthorizedOperations, ResourceType.TOPIC, name)

    const describe = (topic: TopicInfo): TopicResponse => ({
      errorCode: ErrorCode.NONE,
      name: topic.name,
      topicId: topic.id,
      isInternal: false,
      partitions: topic.partitions.map((p) => describePartition(p, cluster)),
      topicAuthorizedOperations: topicOperations(topic.name)
    })

    const failed = (errorCode: number, name: string | null, topicId = ZERO_UUID): TopicResponse => ({
      errorCode,
      name,
      topicId,
      isInternal: false,
      partitions: [],
      topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED
    })

    // Before v4 every Metadata request allows auto-creation; the broker's setting decides in any case.
    const autoCreate = config.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation)

    /** An unknown name: created with the broker's defaults when allowed, else an error. */
    const unknownName = (name: string): Effect.Effect<TopicResponse, never, Topics.Services> => {
      if (topicNameProblem(name) !== undefined) return Effect.succeed(failed(ErrorCode.INVALID_TOPIC_EXCEPTION, name))
      if (!autoCreate) return Effect.succeed(failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name))
      if (
        check.enabled && !check.can(context.connection, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME) &&
        !check.can(context.connection, AclOperation.CREATE, ResourceType.TOPIC, name)
      ) return Effect.succeed(failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED, name))
      return createTopic({ name, partitions: -1, replicationFactor: -1 }).pipe(
        Effect.map(describe),
        // Another connection created it first: describe that one.
        Effect.catchTag("TopicAlreadyExists", () =>
          Effect.map(metadata.image, (now) => {
            const topic = now.topics.get(name)
            return topic === undefined ? failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name) : describe(topic)
          })),
        Effect.catch((e) => Effect.as(Effect.logWarning(`auto-creating ${name} failed: ${e.message}`), failed(e.code, name)))
      )
    }

    const all = request.topics === null || (version === 0 && request.topics.length === 0)
    const topics = all
      ? sortedTopics(image).filter((t) => canDescribe(t.name)).map(describe)
      : yield* Effect.forEach(request.topics!, (t) => {
        if (t.name === null) {
          const byId = image.topicsById.get(t.topicId)
          // The response's topic name is nullable only from v12; v10-11 answer an unknown id with "".
          // Topic ids are not secret (as Kafka): an undescribable one answers 29 with the id, without the name.
          if (byId !== undefined && !canDescribe(byId.name)) {
            return Effect.succeed(failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED, version >= 12 ? null : "", t.topicId))
          }
          return Effect.succeed(byId === undefined
            ? failed(ErrorCode.UNKNOWN_TOPIC_ID, version >= 12 ? null : "", t.topicId)
            : describe(byId))
        }
        if (!canDescribe(t.name)) return Effect.succeed(failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED, t.name))
        const byName = image.topics.get(t.name)
        return byName !== undefined ? Effect.succeed(describe(byName)) : unknownName(t.name)
      })

    return {
      throttleTimeMs: 0,
      brokers: live.flatMap((nodeId) => {
        const e = cluster.endpoint(nodeId, context.connection)
        return e === undefined ? [] : [{ nodeId, host: e.host, port: e.port, rack: null }]
      }),
      clusterId: metadata.clusterId,
      controllerId: controllerOf(cluster),
      topics,
      clusterAuthorizedOperations: authorizedOperations(
        check,
        context.connection,
        request.includeClusterAuthorizedOperations,
        ResourceType.CLUSTER,
        CLUSTER_NAME
      )
    }
  }))
