// AlterClientQuotas v0-v1: sets and removes quotas of user / client-id / ip entities, written as
// ClientQuotaRecords to the metadata log (one per value that changes) and in force for the next request. Each
// entity succeeds or fails on its own, with Kafka's INVALID_REQUEST (42) messages (services/quota/
// QuotaEntities.ts); `validate_only` checks everything and writes nothing. The answer has one entry per distinct
// entity. A metadata log that cannot be written answers KAFKA_STORAGE_ERROR (56) for every entry.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { AlterClientQuotas } from "../../protocol/messages/AlterClientQuotas.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { alterQuotas } from "../quota/QuotaEntities.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"

type Response = ResponseOf<typeof AlterClientQuotas>

export const make = handler(AlterClientQuotas, "0-1", (request, context) =>
  Effect.gen(function*() {
    if ((yield* Authorization.current).denied(context.connection, AclOperation.ALTER_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return {
        throttleTimeMs: 0,
        entries: request.entries.map((entry) => ({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed.", entity: entry.entity }))
      } satisfies Response
    }
    const metadata = yield* ClusterMetadata
    const alterations = request.entries.map((e) => ({ entity: e.entity, ops: e.ops }))
    const results = yield* metadata.update((image) => {
      const { records, results } = alterQuotas(image, alterations)
      return Effect.succeed({ records: request.validateOnly ? [] : records, result: results })
    }).pipe(Effect.result)
    if (results._tag === "Failure") {
      const e = results.failure
      yield* Effect.logError(e.message)
      return {
        throttleTimeMs: 0,
        entries: request.entries.map((entry) => ({ errorCode: e.code, errorMessage: e.message, entity: entry.entity }))
      } satisfies Response
    }
    return {
      throttleTimeMs: 0,
      entries: results.success.map(({ entity, error }) => ({
        errorCode: error?.code ?? ErrorCode.NONE,
        errorMessage: error?.message ?? null,
        entity: entity.map((p) => ({ entityType: p.entityType, entityName: p.entityName }))
      }))
    } satisfies Response
  }))
