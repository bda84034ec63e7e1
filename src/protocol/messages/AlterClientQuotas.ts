import { api, versions, array, bool, field, float64, int16, int32, string, struct } from "../Message.ts"

export const AlterClientQuotas = api({
  key: 49,
  name: "AlterClientQuotas",
  validVersions: versions("0-1"),
  flexibleFrom: 1,
  request: struct({
    entries: field(array(struct({
      entity: field(array(struct({
        entityType: field(string),
        entityName: field(string, "0+", { nullable: "0+" }),
      }))),
      ops: field(array(struct({
        key: field(string),
        value: field(float64),
        remove: field(bool),
      }))),
    }))),
    validateOnly: field(bool),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    entries: field(array(struct({
      errorCode: field(int16),
      errorMessage: field(string, "0+", { nullable: "0+", default: null }),
      entity: field(array(struct({
        entityType: field(string),
        entityName: field(string, "0+", { nullable: "0+" }),
      }))),
    }))),
  })
})
