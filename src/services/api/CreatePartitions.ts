// CreatePartitions v0-v3: grows a topic to `count` partitions (new PartitionRecords in the metadata log, new
// partition logs). Unknown topic → 3; a count not above the current one → 37; `validate_only` writes nothing.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { CreatePartitions } from "../../protocol/messages/CreatePartitions.ts"
import { handler } from "../Handler.ts"
import { createPartitions } from "../Topics.ts"

export const make = handler(CreatePartitions, (request) =>
  Effect.gen(function*() {
    const results = yield* Effect.forEach(request.topics, (t) =>
      createPartitions(t.name, t.count, t.assignments?.map((a) => a.brokerIds) ?? null, request.validateOnly).pipe(
        Effect.as({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null }),
        Effect.catch((e) => Effect.succeed({ name: t.name, errorCode: e.code, errorMessage: e.message as string | null }))
      ))
    return { throttleTimeMs: 0, results }
  }))
