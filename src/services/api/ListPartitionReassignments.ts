// ListPartitionReassignments v0: no reassignment is ever in progress (the brokers share their storage, so one is
// complete as soon as it is written: AlterPartitionReassignments.ts); every request (all topics when null, or the
// ones named) answers an empty list, as Kafka's controller does when nothing is reassigning.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ListPartitionReassignments } from "../../protocol/messages/ListPartitionReassignments.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

export const make = handler(ListPartitionReassignments, "0", (_request, context) =>
  Effect.map(Authorization.current, (check) =>
    check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)
      ? { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed." as string | null, topics: [] }
      : { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null as string | null, topics: [] }))
