import { api, bytes, field, int16, int64, string, struct, versions } from "../Message.ts"

export const SaslAuthenticate = api({
  key: 36,
  name: "SaslAuthenticate",
  validVersions: versions("0-2"),
  flexibleFrom: 2,
  request: struct({
    authBytes: field(bytes)
  }),
  response: struct({
    errorCode: field(int16),
    errorMessage: field(string, "0+", { nullable: "0+" }),
    authBytes: field(bytes),
    sessionLifetimeMs: field(int64, "1+", { default: 0 })
  })
})
