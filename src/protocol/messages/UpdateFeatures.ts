import { api, versions, array, bool, field, int16, int32, int8, string, struct } from "../Message.ts"

export const UpdateFeatures = api({
  key: 57,
  name: "UpdateFeatures",
  validVersions: versions("0-2"),
  flexibleFrom: 0,
  request: struct({
    timeoutMs: field(int32, "0+", { default: 60_000 }),
    featureUpdates: field(array(struct({
      feature: field(string),
      /** Below 1: delete the finalized feature (with a downgrade). */
      maxVersionLevel: field(int16),
      /** v0 only; v1 replaced it with `upgradeType`. */
      allowDowngrade: field(bool, "0"),
      /** 1: upgrade, 2: safe downgrade, 3: unsafe downgrade. */
      upgradeType: field(int8, "1+", { default: 1 }),
    }))),
    validateOnly: field(bool, "1+", { default: false }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    errorMessage: field(string, "0+", { nullable: "0+", default: null }),
    results: field(array(struct({
      feature: field(string),
      errorCode: field(int16),
      errorMessage: field(string, "0+", { nullable: "0+", default: null }),
    })), "0-1"),
  })
})
