// ApiVersions v0-v4: the APIs and version ranges this broker serves, from the same table that dispatches
// requests, so the two cannot disagree. The response header is always v0. A request for a version we do not
// speak is answered (by the connection) with error 35 in the v0 layout, still listing the ranges, so that the
// client retries with a version we know.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { ApiVersions } from "../../protocol/messages/ApiVersions.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { handler } from "./Handler.ts"

export interface ApiRange {
  readonly apiKey: number
  readonly minVersion: number
  readonly maxVersion: number
}

export const make = (supported: () => ReadonlyArray<ApiRange>) =>
  handler(ApiVersions, "0-4", () =>
    Effect.gen(function*() {
      const image = yield* (yield* ClusterMetadata).image
      const features = [...image.features].map(([name, level]) => ({ name, level }))
      return {
        errorCode: ErrorCode.NONE,
        apiKeys: [...supported()],
        throttleTimeMs: 0,
        supportedFeatures: features.map((f) => ({ name: f.name, minVersion: Math.min(1, f.level), maxVersion: f.level })),
        finalizedFeaturesEpoch: features.length === 0 ? -1 : 0,
        finalizedFeatures: features.map((f) => ({ name: f.name, maxVersionLevel: f.level, minVersionLevel: f.level })),
        zkMigrationReady: false
      } satisfies ResponseOf<typeof ApiVersions>
    }))

/** The answer to an ApiVersions request of a version we do not speak, in the v0 body layout. */
export const unsupportedVersion = (supported: ReadonlyArray<ApiRange>): ResponseOf<typeof ApiVersions> => ({
  errorCode: ErrorCode.UNSUPPORTED_VERSION,
  apiKeys: [...supported],
  throttleTimeMs: 0
})
