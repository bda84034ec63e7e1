// ConsumerGroupHeartbeat v0-v1 (KIP-848): the one request of the consumer group protocol. Epoch 0 joins with a
// subscription (topic names, or in v1 a regular expression), a positive epoch heartbeats (and acknowledges
// revoked partitions by no longer listing them), -1 leaves and -2 leaves for a static member's restart. The
// answer carries the member's epoch, the heartbeat interval and its partitions when they changed. In v1 the
// client picks its member id. Errors as Kafka: 25 unknown member, 110 fenced epoch, 111 unreleased instance id,
// 112 unsupported assignor, 81 group full, 42 missing fields, 69 a classic group of that id. See ConsumerGroups.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ConsumerGroupHeartbeat } from "../../protocol/messages/ConsumerGroupHeartbeat.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(ConsumerGroupHeartbeat, "0-1", (request, context) =>
  Effect.gen(function*() {
    const coordinator = yield* GroupCoordinator
    // As Kafka: READ on the group (else 30), DESCRIBE on every subscribed topic name (else 29).
    const check = yield* Authorization.current
    const refuse = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0, errorCode, errorMessage, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null
    })
    if (check.denied(context.connection, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return refuse(ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.")
    }
    const deniedTopics = (request.subscribedTopicNames ?? []).filter((t) =>
      check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, t)
    )
    if (deniedTopics.length > 0) {
      return refuse(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `Topic authorization failed for topics [${deniedTopics.join(", ")}]`)
    }
    return yield* coordinator.consumerHeartbeat({
      ...request,
      clientId: context.clientId ?? "",
      clientHost: `/${context.connection.remote.replace(/:\d+$/, "")}`,
      apiVersion: context.apiVersion
    }).pipe(
      Effect.map((r) => ({
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE as number,
        errorMessage: null,
        memberId: r.memberId,
        memberEpoch: r.memberEpoch,
        heartbeatIntervalMs: r.heartbeatIntervalMs,
        assignment: r.assignment === null
          ? null
          : { topicPartitions: [...r.assignment].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions] })) }
      })),
      Effect.catch((e) =>
        Effect.as(
          e._tag === "StorageError" ? Effect.logError(`consumer group heartbeat of ${request.groupId} failed: ${e.message}`) : Effect.void,
          {
            throttleTimeMs: 0,
            errorCode: e._tag === "StorageError" ? ErrorCode.COORDINATOR_NOT_AVAILABLE : e.code as number,
            errorMessage: e.message,
            memberId: null,
            memberEpoch: -1,
            heartbeatIntervalMs: 0,
            assignment: null
          }
        )
      )
    )
  }))
