// DeleteTopics v0-v6: by name, and from v6 by id. The topic's RemoveTopicRecord is committed to the metadata
// log, then its partition logs are deleted. Unknown name → 3, unknown id → 100.
import { Effect } from "effect"
import { ZERO_UUID } from "../../protocol/Bytes.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DeleteTopics } from "../../protocol/messages/DeleteTopics.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { handler } from "./Handler.ts"
import { deleteTopic } from "../metadata/Topics.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

type TopicResult = ResponseOf<typeof DeleteTopics>["responses"][number]
type Target = { readonly name: string } | { readonly id: string }

export const make = handler(DeleteTopics, "0-6", (request, context) =>
  Effect.gen(function*() {
    const targets: Array<Target> = context.apiVersion >= 6
      ? request.topics.map((t) => (t.name !== null ? { name: t.name } : { id: t.topicId }))
      : request.topicNames.map((name) => ({ name }))
    // DELETE on each topic, else 29 (a topic named by an id this broker does not know stays 100).
    const check = yield* Authorization.current
    const image = check.enabled ? yield* (yield* ClusterMetadata).image : undefined
    const denied = (target: Target): boolean => {
      if (!check.enabled) return false
      const name = "name" in target ? target.name : image!.topicsById.get(target.id)?.name
      return name !== undefined && check.denied(context.connection, AclOperation.DELETE, ResourceType.TOPIC, name)
    }
    const responses = yield* Effect.forEach(targets, (target) =>
      denied(target)
        ? Effect.succeed<TopicResult>({
          name: "name" in target ? target.name : null,
          topicId: "id" in target ? target.id : ZERO_UUID,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: "Topic authorization failed."
        })
        : deleteTopic(target).pipe(
        Effect.map((topic): TopicResult => ({ name: topic.name, topicId: topic.id, errorCode: ErrorCode.NONE, errorMessage: null })),
        Effect.catch((e) =>
          Effect.succeed<TopicResult>({
            name: "name" in target ? target.name : null,
            topicId: "id" in target ? target.id : ZERO_UUID,
            errorCode: e.code,
            errorMessage: e.message
          })
        )
      ))
    // Before v6 every name is non-null; the protocol has no way to say "unknown" otherwise.
    return { throttleTimeMs: 0, responses: responses.map((r) => (context.apiVersion < 6 && r.name === null ? { ...r, name: "" } : r)) }
  }))
