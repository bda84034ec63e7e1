// CreatePartitions v0-v3: grows a topic to `count` partitions (new PartitionRecords in the metadata log, new
// partition logs). Unknown topic → 3; a count not above the current one → 37; `validate_only` writes nothing.
// More than 10,000 new partitions in one request → 44 for every topic (Kafka's bound on one metadata change).
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { CreatePartitions } from "../../protocol/messages/CreatePartitions.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"
import { createPartitions, excessiveRequest, MAX_RECORDS_PER_REQUEST } from "../metadata/Topics.ts"

export const make = handler(CreatePartitions, "0-3", (request, context) =>
  Effect.gen(function*() {
    // ALTER on each topic, else 29.
    const check = yield* Authorization.current
    const image = yield* (yield* ClusterMetadata).image
    let records = 0
    for (const t of request.topics) {
      const current = image.topics.get(t.name)?.partitions.length
      if (current !== undefined && t.count > current) records += t.count - current
    }
    if (records > MAX_RECORDS_PER_REQUEST) {
      const e = excessiveRequest(records)
      return { throttleTimeMs: 0, results: request.topics.map((t) => ({ name: t.name, errorCode: e.code, errorMessage: e.message as string | null })) }
    }
    const results = yield* Effect.forEach(request.topics, (t) =>
      check.denied(context.connection, AclOperation.ALTER, ResourceType.TOPIC, t.name)
      ? Effect.succeed({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED as number, errorMessage: "Authorization failed." as string | null })
      : createPartitions(t.name, t.count, t.assignments?.map((a) => a.brokerIds) ?? null, request.validateOnly).pipe(
        Effect.as({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null }),
        Effect.catch((e) => Effect.succeed({ name: t.name, errorCode: e.code, errorMessage: e.message as string | null }))
      ))
    return { throttleTimeMs: 0, results }
  }))
