import { api, versions, array, bool, field, int16, int32, int8, string, struct } from "../Message.ts"

export const DescribeConfigs = api({
  key: 32,
  name: "DescribeConfigs",
  validVersions: versions("0-4"),
  flexibleFrom: 4,
  request: struct({
    resources: field(array(struct({
      resourceType: field(int8),
      resourceName: field(string),
      configurationKeys: field(array(string), "0+", { nullable: "0+" }),
    }))),
    includeSynonyms: field(bool, "1+", { default: false }),
    includeDocumentation: field(bool, "3+", { default: false }),
  }),
  response: struct({
    throttleTimeMs: field(int32),
    results: field(array(struct({
      errorCode: field(int16),
      errorMessage: field(string, "0+", { nullable: "0+" }),
      resourceType: field(int8),
      resourceName: field(string),
      configs: field(array(struct({
        name: field(string),
        value: field(string, "0+", { nullable: "0+" }),
        readOnly: field(bool),
        isDefault: field(bool, "0"),
        configSource: field(int8, "1+", { default: -1 }),
        isSensitive: field(bool),
        synonyms: field(array(struct({
          name: field(string, "1+"),
          value: field(string, "1+", { nullable: "0+" }),
          source: field(int8, "1+"),
        })), "1+"),
        configType: field(int8, "3+", { default: 0 }),
        documentation: field(string, "3+", { nullable: "0+" }),
      }))),
    }))),
  })
})
