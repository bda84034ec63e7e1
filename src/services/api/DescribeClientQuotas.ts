// DescribeClientQuotas v0-v1: the quotas of the entities matching the filter, from the metadata image (see
// services/quota/QuotaEntities.ts). A filter Kafka refuses is answered at the top level with entries null:
// INVALID_REQUEST (42) for a bad component, UNSUPPORTED_VERSION (35) for an entity type other than user,
// client-id and ip, each with Kafka's message.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeClientQuotas } from "../../protocol/messages/DescribeClientQuotas.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { describeQuotas } from "../quota/QuotaEntities.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"

type Response = ResponseOf<typeof DescribeClientQuotas>

export const make = handler(DescribeClientQuotas, "0-1", (request, context) =>
  Effect.gen(function*() {
    if ((yield* Authorization.current).denied(context.connection, AclOperation.DESCRIBE_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed.", entries: null } satisfies Response
    }
    const image = yield* (yield* ClusterMetadata).image
    const found = describeQuotas(image, request.components, request.strict)
    if (!Array.isArray(found)) {
      return { throttleTimeMs: 0, errorCode: found.code, errorMessage: found.message, entries: null } satisfies Response
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      entries: found.map((q) => ({
        entity: q.entity.map((p) => ({ entityType: p.entityType, entityName: p.entityName })),
        values: [...q.values].map(([key, value]) => ({ key, value }))
      }))
    } satisfies Response
  }))
