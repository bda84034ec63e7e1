// DescribeConfigs v0-v4. Topics (resource type 2): every Kafka topic config, its value the topic's override
// (TOPIC_CONFIG) or derived from the broker's configuration (STATIC_BROKER_CONFIG when server.properties sets
// it, else DEFAULT_CONFIG, or dynamic broker values); an unknown topic is answered with 3, an invalid name with
// 17. The broker (type 4) by this node's id: the keys it reads, dynamic values over the file's over defaults; named
// "" (the cluster-wide default): only the configs set dynamically at that level; another id is 42.
// Any other resource type is 42 for that resource alone. `configuration_keys` null or empty means every
// config, else only those named (unknown names are left out), as Kafka does. v0 answers `is_default`; v1+ the
// source, and synonyms when asked; v3+ the config type, and documentation when asked. Fields a version lacks
// are left out by its codec, so the handler answers the same at every version.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeConfigs } from "../../protocol/messages/DescribeConfigs.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { dynamicOf, effectiveConfig } from "../config/DynamicConfigs.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { ConfigResource } from "../metadata/MetadataImage.ts"
import { InvalidRequest, InvalidTopic, UnknownTopicOrPartition } from "../Errors.ts"
import { Authorization, configResourceRefusal } from "../auth/Authorization.ts"
import { AclOperation } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"
import { describeBrokerConfigs } from "../config/BrokerConfigs.ts"
import { type ConfigEntry, ConfigSource, ConfigType } from "../config/ConfigEntries.ts"
import { describeTopicConfigs } from "../metadata/TopicConfigs.ts"
import { topicNameProblem } from "../metadata/Topics.ts"

type Result = ResponseOf<typeof DescribeConfigs>["results"][number]
type ConfigResult = Result["configs"][number]

export const make = handler(DescribeConfigs, "0-4", (request, context) =>
  Effect.gen(function*() {
    // DESCRIBE_CONFIGS on the topic (else 29) or the cluster for a broker (else 31).
    const check = yield* Authorization.current
    const metadata = yield* ClusterMetadata
    const image = yield* metadata.image
    const config = effectiveConfig(yield* BrokerConfig, image)
    const dynamic = dynamicOf(config, image)

    const configsOf = (resourceType: number, name: string): Effect.Effect<
      Array<ConfigEntry>,
      UnknownTopicOrPartition | InvalidTopic | InvalidRequest
    > => {
      switch (resourceType) {
        case ConfigResource.Topic: {
          const problem = topicNameProblem(name)
          if (problem !== undefined) return Effect.fail(new InvalidTopic({ topic: name, detail: problem }))
          const topic = image.topics.get(name)
          if (topic === undefined) return Effect.fail(new UnknownTopicOrPartition({ topic: name }))
          return Effect.succeed(describeTopicConfigs(config, topic.configs, dynamic))
        }
        case ConfigResource.Broker: {
          // The cluster-wide default resource holds only what was set dynamically at that level, as Kafka lists it.
          if (name === "") return Effect.succeed(describeBrokerConfigs(config, dynamic).filter((e) => dynamic.cluster.has(e.name)).map(clusterDefault))
          if (/^[+-]?\d+$/.test(name) && Number(name) === config.nodeId) return Effect.succeed(describeBrokerConfigs(config, dynamic))
          return Effect.fail(new InvalidRequest({
            detail: /^[+-]?\d+$/.test(name)
              ? `unexpected broker id ${name}: this is broker ${config.nodeId} (or use the empty name)`
              : `broker id must be an integer, got "${name}"`
          }))
        }
        default:
          return Effect.fail(new InvalidRequest({ detail: `unsupported resource type ${resourceType}` }))
      }
    }

    /** A config of the cluster-wide default as that resource describes it: its dynamic default value alone. */
    const clusterDefault = (entry: ConfigEntry): ConfigEntry => {
      const value = dynamic.cluster.get(entry.name)!
      return { ...entry, value, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, isDefault: false, synonyms: [{ name: entry.name, value, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG }] }
    }

    const toResponse = (entry: ConfigEntry): ConfigResult => ({
      name: entry.name,
      value: entry.value,
      readOnly: entry.readOnly,
      isDefault: entry.isDefault,
      configSource: entry.source,
      isSensitive: entry.type === ConfigType.PASSWORD,
      synonyms: request.includeSynonyms ? entry.synonyms.map((s) => ({ ...s })) : [],
      configType: entry.type,
      documentation: request.includeDocumentation ? entry.documentation : null
    })

    const results = yield* Effect.forEach(request.resources, (resource) => {
      const keys = resource.configurationKeys
      const wanted = keys === null || keys.length === 0 ? undefined : new Set(keys)
      const refused = configResourceRefusal(check, context.connection, AclOperation.DESCRIBE_CONFIGS, resource.resourceType, resource.resourceName)
      if (refused !== 0) {
        return Effect.succeed<Result>({
          errorCode: refused,
          errorMessage: refused === ErrorCode.TOPIC_AUTHORIZATION_FAILED ? "Topic authorization failed." : "Cluster authorization failed.",
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
          configs: []
        })
      }
      return configsOf(resource.resourceType, resource.resourceName).pipe(
        Effect.map((entries): Result => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
          configs: entries.filter((e) => wanted === undefined || wanted.has(e.name)).map(toResponse)
        })),
        Effect.catch((e) =>
          Effect.succeed<Result>({
            errorCode: e.code,
            errorMessage: e.message,
            resourceType: resource.resourceType,
            resourceName: resource.resourceName,
            configs: []
          })
        )
      )
    })
    return { throttleTimeMs: 0, results }
  }))
