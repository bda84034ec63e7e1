import { api, versions, array, bool, field, float64, int16, int32, int8, string, struct } from "../Message.ts"

export const DescribeClientQuotas = api({
  key: 48,
  name: "DescribeClientQuotas",
  validVersions: versions("0-1"),
  flexibleFrom: 1,
  request: struct({
    components: field(array(struct({
      entityType: field(string),
      /** 0: exact name, 1: the default entity, 2: any named entity. */
      matchType: field(int8),
      match: field(string, "0+", { nullable: "0+" }),
    }))),
    strict: field(bool),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    errorCode: field(int16),
    errorMessage: field(string, "0+", { nullable: "0+", default: null }),
    entries: field(array(struct({
      entity: field(array(struct({
        entityType: field(string),
        entityName: field(string, "0+", { nullable: "0+" }),
      }))),
      values: field(array(struct({
        key: field(string),
        value: field(float64),
      }))),
    })), "0+", { nullable: "0+" }),
  })
})
