import { api, array, bytes, field, int16, int32, int8, string, struct, versions } from "../Message.ts"

export const AlterUserScramCredentials = api({
  key: 51,
  name: "AlterUserScramCredentials",
  validVersions: versions("0"),
  flexibleFrom: 0,
  request: struct({
    deletions: field(array(struct({
      name: field(string),
      mechanism: field(int8)
    }))),
    upsertions: field(array(struct({
      name: field(string),
      mechanism: field(int8),
      iterations: field(int32),
      salt: field(bytes),
      saltedPassword: field(bytes)
    })))
  }),
  response: struct({
    throttleTimeMs: field(int32),
    results: field(array(struct({
      user: field(string),
      errorCode: field(int16),
      errorMessage: field(string, "0+", { nullable: "0+" })
    })))
  })
})
