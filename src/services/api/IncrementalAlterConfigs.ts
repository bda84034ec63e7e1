// IncrementalAlterConfigs v0-v1: per config SET, DELETE, APPEND or SUBTRACT (the last two on list configs),
// for topics and the broker (its id, or "" for the cluster-wide default), as services/config/ConfigChanges.ts
// checks and commits them; each resource succeeds or fails on its own, a resource named twice is refused (42),
// `validate_only` writes nothing.
import { Effect } from "effect"
import { IncrementalAlterConfigs } from "../../protocol/messages/IncrementalAlterConfigs.ts"
import { changeEach } from "../config/ConfigChanges.ts"
import { handler } from "./Handler.ts"
import { Authorization, configResourceRefusal } from "../auth/Authorization.ts"
import { AclOperation } from "../auth/Authorizer.ts"

export const make = handler(IncrementalAlterConfigs, "0-1", (request, context) =>
  Effect.gen(function*() {
    // ALTER_CONFIGS on the topic (else 29) or the cluster for a broker (else 31); the others are changed.
    const check = yield* Authorization.current
    const refusals = request.resources.map((r) =>
      configResourceRefusal(check, context.connection, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName)
    )
    const allowed = request.resources.filter((_, i) => refusals[i] === 0)
    const changed = yield* changeEach(
      allowed.map((r) => ({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        replace: false,
        ops: r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value }))
      })),
      request.validateOnly
    )
    let next = 0
    const responses = request.resources.map((r, i) =>
      refusals[i] === 0
        ? changed[next++]!
        : {
          errorCode: refusals[i]!,
          errorMessage: (refusals[i] === 29 ? "Topic authorization failed." : "Cluster authorization failed.") as string | null,
          resourceType: r.resourceType,
          resourceName: r.resourceName
        }
    )
    return { throttleTimeMs: 0, responses }
  }))
