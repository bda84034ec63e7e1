// AlterConfigs v0-v2: each resource's configs become exactly the ones given (Kafka's legacy, non-incremental
// form: a config left out is removed). Topics and the broker (its id, or "" for the cluster-wide default), as
// services/config/ConfigChanges.ts checks and commits them; each resource succeeds or fails on its own, a
// resource named twice is refused (42), `validate_only` writes nothing.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { AlterConfigs } from "../../protocol/messages/AlterConfigs.ts"
import { InvalidRequest } from "../Errors.ts"
import { changeConfigs, duplicates, OpType } from "../config/ConfigChanges.ts"
import { handler } from "./Handler.ts"

export const make = handler(AlterConfigs, "0-2", (request) =>
  Effect.gen(function*() {
    const twice = duplicates(request.resources)
    const responses = yield* Effect.forEach(request.resources, (r) => {
      const { resourceType, resourceName } = r
      const change = twice.has(`${resourceType}:${resourceName}`)
        ? Effect.fail(new InvalidRequest({ detail: "Each resource must appear at most once." }))
        : changeConfigs({
          resourceType,
          resourceName,
          replace: true,
          ops: r.configs.map((c) => ({ name: c.name, op: OpType.Set, value: c.value }))
        }, request.validateOnly)
      return change.pipe(
        Effect.as({ errorCode: ErrorCode.NONE, errorMessage: null, resourceType, resourceName }),
        Effect.catch((e) => Effect.succeed({ errorCode: e.code as number, errorMessage: e.message, resourceType, resourceName }))
      )
    })
    return { throttleTimeMs: 0, responses }
  }))
