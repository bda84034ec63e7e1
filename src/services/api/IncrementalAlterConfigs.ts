// IncrementalAlterConfigs v0-v1: per config SET, DELETE, APPEND or SUBTRACT (the last two on list configs),
// for topics and the broker (its id, or "" for the cluster-wide default), as services/config/ConfigChanges.ts
// checks and commits them; each resource succeeds or fails on its own, a resource named twice is refused (42),
// `validate_only` writes nothing.
import { Effect } from "effect"
import { IncrementalAlterConfigs } from "../../protocol/messages/IncrementalAlterConfigs.ts"
import { changeAuthorized } from "../config/ConfigChanges.ts"
import { handler } from "./Handler.ts"

export const make = handler(IncrementalAlterConfigs, "0-1", (request, context) =>
  Effect.map(
    changeAuthorized(context.connection, request.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      replace: false,
      ops: r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value }))
    })), request.validateOnly),
    (responses) => ({ throttleTimeMs: 0, responses })
  ))
