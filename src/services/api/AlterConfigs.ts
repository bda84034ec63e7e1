// AlterConfigs v0-v2: each resource's configs become exactly the ones given (Kafka's legacy, non-incremental
// form: a config left out is removed). Topics and the broker (its id, or "" for the cluster-wide default), as
// services/config/ConfigChanges.ts checks and commits them; each resource succeeds or fails on its own, a
// resource named twice is refused (42), `validate_only` writes nothing.
import { Effect } from "effect"
import { AlterConfigs } from "../../protocol/messages/AlterConfigs.ts"
import { changeAuthorized, OpType } from "../config/ConfigChanges.ts"
import { handler } from "./Handler.ts"

export const make = handler(AlterConfigs, "0-2", (request, context) =>
  Effect.map(
    changeAuthorized(context.connection, request.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      replace: true,
      ops: r.configs.map((c) => ({ name: c.name, op: OpType.Set, value: c.value }))
    })), request.validateOnly),
    (responses) => ({ throttleTimeMs: 0, responses })
  ))
