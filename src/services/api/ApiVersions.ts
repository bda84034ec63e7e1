// ApiVersions v0-v4: the APIs and version ranges this broker serves, from the same table that dispatches
// requests, so the two cannot disagree. The response header is always v0. A request for a version we do not
// speak is answered (by the connection) with error 35 in the v0 layout, still listing the ranges, so that the
// client retries with a version we know.
//
// v3+ also carry features (services/metadata/Features.ts): the supported ranges (below v4 without those whose
// minimum is 0, which older clients cannot read, as Kafka leaves them out), the finalized levels above 0 (with
// metadata.version always), and as their epoch the offset of the last metadata record (-1 before the first).
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ApiVersions } from "../../protocol/messages/ApiVersions.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { finalizedFeatures, SUPPORTED_FEATURES } from "../metadata/Features.ts"
import { handler } from "./Handler.ts"

export interface ApiRange {
  readonly apiKey: number
  readonly minVersion: number
  readonly maxVersion: number
}

export const make = (supported: () => ReadonlyArray<ApiRange>) =>
  handler(ApiVersions, "0-4", (_, context) =>
    Effect.gen(function*() {
      const metadata = yield* ClusterMetadata
      const image = yield* metadata.image
      const { endOffset } = yield* metadata.log
      return {
        errorCode: ErrorCode.NONE,
        apiKeys: [...supported()],
        throttleTimeMs: 0,
        supportedFeatures: [...SUPPORTED_FEATURES]
          .filter(([, range]) => context.apiVersion >= 4 || range.min > 0)
          .map(([name, range]) => ({ name, minVersion: range.min, maxVersion: range.max })),
        finalizedFeaturesEpoch: endOffset - 1,
        finalizedFeatures: [...finalizedFeatures(image)].map(([name, level]) => ({ name, maxVersionLevel: level, minVersionLevel: level })),
        zkMigrationReady: false
      } satisfies ResponseOf<typeof ApiVersions>
    }))

/** The answer to an ApiVersions request of a version we do not speak, in the v0 body layout. */
export const unsupportedVersion = (supported: ReadonlyArray<ApiRange>): ResponseOf<typeof ApiVersions> => ({
  errorCode: ErrorCode.UNSUPPORTED_VERSION,
  apiKeys: [...supported],
  throttleTimeMs: 0
})
