import { api, versions, array, field, int16, int32, int8, string, struct } from "../Message.ts"

export const DescribeUserScramCredentials = api({
  key: 50,
  name: "DescribeUserScramCredentials",
  validVersions: versions("0"),
  flexibleFrom: 0,
  request: struct({
    users: field(array(struct({
      name: field(string),
    })), "0+", { nullable: "0+" }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    errorMessage: field(string, "0+", { nullable: "0+", default: null }),
    results: field(array(struct({
      user: field(string),
      errorCode: field(int16),
      errorMessage: field(string, "0+", { nullable: "0+", default: null }),
      credentialInfos: field(array(struct({
        mechanism: field(int8),
        iterations: field(int32),
      }))),
    }))),
  })
})
