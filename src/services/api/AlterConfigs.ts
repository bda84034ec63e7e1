// AlterConfigs v0-v2: each resource's configs become exactly the ones given (Kafka's legacy, non-incremental
// form: a config left out is removed). Topics and the broker (its id, or "" for the cluster-wide default), as
// services/config/ConfigChanges.ts checks and commits them; each resource succeeds or fails on its own, a
// resource named twice is refused (42), `validate_only` writes nothing.
import { Effect } from "effect"
import { AlterConfigs } from "../../protocol/messages/AlterConfigs.ts"
import { changeEach, OpType } from "../config/ConfigChanges.ts"
import { handler } from "./Handler.ts"
import { Authorization, configResourceRefusal } from "../auth/Authorization.ts"
import { AclOperation } from "../auth/Authorizer.ts"

export const make = handler(AlterConfigs, "0-2", (request, context) =>
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
        replace: true,
        ops: r.configs.map((c) => ({ name: c.name, op: OpType.Set, value: c.value }))
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
