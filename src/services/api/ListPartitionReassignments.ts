// ListPartitionReassignments v0: this node is the only broker, so no reassignment is ever in progress; every
// request (all topics when null, or the ones named) answers an empty list, as Kafka's controller does when
// nothing is reassigning.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ListPartitionReassignments } from "../../protocol/messages/ListPartitionReassignments.ts"
import { handler } from "./Handler.ts"

export const make = handler(ListPartitionReassignments, "0", () =>
  Effect.succeed({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] }))
