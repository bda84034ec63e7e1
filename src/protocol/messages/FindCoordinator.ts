import { api, versions, array, field, int16, int32, int8, string, struct } from "../Message.ts"

export const FindCoordinator = api({
  key: 10,
  name: "FindCoordinator",
  validVersions: versions("0-6"),
  flexibleFrom: 3,
  request: struct({
    key: field(string, "0-3"),
    keyType: field(int8, "1+", { default: 0 }),
    coordinatorKeys: field(array(string), "4+"),
  }),
  response: struct({
    throttleTimeMs: field(int32, "1+"),
    errorCode: field(int16, "0-3"),
    errorMessage: field(string, "1-3", { nullable: "1-3" }),
    nodeId: field(int32, "0-3"),
    host: field(string, "0-3"),
    port: field(int32, "0-3"),
    coordinators: field(array(struct({
      key: field(string, "4+"),
      nodeId: field(int32, "4+"),
      host: field(string, "4+"),
      port: field(int32, "4+"),
      errorCode: field(int16, "4+"),
      errorMessage: field(string, "4+", { nullable: "4+" }),
    })), "4+"),
  })
})
