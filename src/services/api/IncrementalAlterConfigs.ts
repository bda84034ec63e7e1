// IncrementalAlterConfigs v0-v1: per config SET, DELETE, APPEND or SUBTRACT (the last two on list configs),
// for topics and the broker (its id, or "" for the cluster-wide default), as services/config/ConfigChanges.ts
// checks and commits them; each resource succeeds or fails on its own, a resource named twice is refused (42),
// `validate_only` writes nothing.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { IncrementalAlterConfigs } from "../../protocol/messages/IncrementalAlterConfigs.ts"
import { InvalidRequest } from "../Errors.ts"
import { changeConfigs, duplicates } from "../config/ConfigChanges.ts"
import { handler } from "./Handler.ts"

export const make = handler(IncrementalAlterConfigs, "0-1", (request) =>
  Effect.gen(function*() {
    const twice = duplicates(request.resources)
    const responses = yield* Effect.forEach(request.resources, (r) => {
      const { resourceType, resourceName } = r
      const change = twice.has(`${resourceType}:${resourceName}`)
        ? Effect.fail(new InvalidRequest({ detail: "Each resource must appear at most once." }))
        : changeConfigs({
          resourceType,
          resourceName,
          replace: false,
          ops: r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value }))
        }, request.validateOnly)
      return change.pipe(
        Effect.as({ errorCode: ErrorCode.NONE, errorMessage: null, resourceType, resourceName }),
        Effect.catch((e) => Effect.succeed({ errorCode: e.code as number, errorMessage: e.message, resourceType, resourceName }))
      )
    })
    return { throttleTimeMs: 0, responses }
  }))
