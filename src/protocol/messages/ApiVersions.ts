import { api, versions, array, bool, field, int16, int32, int64, string, struct, tagged } from "../Message.ts"

export const ApiVersions = api({
  key: 18,
  name: "ApiVersions",
  validVersions: versions("0-4"),
  flexibleFrom: 3,
  request: struct({
    clientSoftwareName: field(string, "3+"),
    clientSoftwareVersion: field(string, "3+"),
  }),
  response: struct({
    errorCode: field(int16),
    apiKeys: field(array(struct({
      apiKey: field(int16),
      minVersion: field(int16),
      maxVersion: field(int16),
    }))),
    throttleTimeMs: field(int32, "1+"),
    supportedFeatures: tagged(0, array(struct({
      name: field(string, "3+"),
      minVersion: field(int16, "3+"),
      maxVersion: field(int16, "3+"),
    })), "3+"),
    finalizedFeaturesEpoch: tagged(1, int64, "3+", { default: -1 }),
    finalizedFeatures: tagged(2, array(struct({
      name: field(string, "3+"),
      maxVersionLevel: field(int16, "3+"),
      minVersionLevel: field(int16, "3+"),
    })), "3+"),
    zkMigrationReady: tagged(3, bool, "3+", { default: false }),
  })
})
