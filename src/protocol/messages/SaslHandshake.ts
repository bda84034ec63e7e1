import { api, array, field, int16, string, struct, versions } from "../Message.ts"

export const SaslHandshake = api({
  key: 17,
  name: "SaslHandshake",
  validVersions: versions("0-1"),
  flexibleFrom: Infinity,
  request: struct({
    mechanism: field(string)
  }),
  response: struct({
    errorCode: field(int16),
    mechanisms: field(array(string))
  })
})
