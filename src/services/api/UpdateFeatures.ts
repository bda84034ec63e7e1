// UpdateFeatures v0-v2: upgrades and downgrades finalized feature levels within the ranges this broker supports
// (services/metadata/Features.ts), as FeatureLevelRecords in the metadata log, the way Kafka's controller decides
// them: a level outside the supported range, a downgrade asked as an upgrade (v0: without allow_downgrade), an
// upgrade asked as a downgrade, an unknown upgrade type, or a metadata.version downgrade across a change of the
// metadata records → INVALID_UPDATE_VERSION (95) for the whole request, nothing written. `validate_only` (v1+)
// writes nothing. v0-v1 answer each feature's result too (v2 only the top level). A metadata log that cannot be
// written → KAFKA_STORAGE_ERROR (56).
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { UpdateFeatures } from "../../protocol/messages/UpdateFeatures.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { InvalidUpdateVersion } from "../Errors.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { updateFeatures, UpgradeType } from "../metadata/Features.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

type Response = ResponseOf<typeof UpdateFeatures>

export const make = handler(UpdateFeatures, "0-2", (request, context) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const metadata = yield* ClusterMetadata
    if ((yield* Authorization.current).denied(context.connection, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        results: []
      } satisfies Response
    }
    const updates = request.featureUpdates.map((u) => ({
      feature: u.feature,
      level: u.maxVersionLevel,
      upgradeType: context.apiVersion === 0
        ? (u.allowDowngrade ? UpgradeType.SafeDowngrade : UpgradeType.Upgrade)
        : u.upgradeType
    }))
    const outcome = yield* metadata.update((image) => {
      const records = updateFeatures(image, updates, config.nodeId)
      return records instanceof InvalidUpdateVersion
        ? Effect.fail(records)
        : Effect.succeed({ records: request.validateOnly ? [] : records, result: undefined })
    }).pipe(Effect.result)
    if (outcome._tag === "Failure") {
      const e = outcome.failure
      if (e._tag === "StorageError") yield* Effect.logError(e.message)
      const message = e._tag === "InvalidUpdateVersion"
        ? `The update failed for all features since the following feature had an error: ${e.message}`
        : e.message
      return { throttleTimeMs: 0, errorCode: e.code, errorMessage: message, results: [] } satisfies Response
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      results: request.featureUpdates.map((u) => ({ feature: u.feature, errorCode: ErrorCode.NONE, errorMessage: null }))
    } satisfies Response
  }))
