// DescribeUserScramCredentials v0, from the SCRAM credentials in the metadata log, as Kafka's ScramImage.describe:
// all users (null or empty list) → every user with credentials; a named user without any → RESOURCE_NOT_FOUND
// (91), a user named twice → DUPLICATE_RESOURCE (92). Only mechanisms and iterations are told, never keys.
// With an authorizer it needs DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED (31) at the top and for
// each user named (without the name, as Kafka answers).
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeUserScramCredentials } from "../../protocol/messages/DescribeUserScramCredentials.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { mechanismType } from "../security/Scram.ts"
import { ScramCredentials } from "../security/ScramCredentials.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"

type Result = ResponseOf<typeof DescribeUserScramCredentials>["results"][number]

export const make = handler(DescribeUserScramCredentials, "0", (request, context) =>
  Effect.gen(function*() {
    const check = yield* Authorization.current
    if (check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED
      const errorMessage = "Cluster authorization failed."
      return {
        throttleTimeMs: 0,
        errorCode,
        errorMessage,
        results: (request.users ?? []).map(() => ({ user: "", errorCode, errorMessage, credentialInfos: [] }))
      } satisfies ResponseOf<typeof DescribeUserScramCredentials>
    }
    const all = yield* (yield* ScramCredentials).all
    const infos = (user: string) =>
      (all.get(user) ?? []).map((c) => ({ mechanism: mechanismType(c.mechanism), iterations: c.iterations }))
    const named = new Map<string, boolean>()
    for (const { name } of request.users ?? []) named.set(name, named.has(name))
    if (named.size === 0) {
      const results: Array<Result> = [...all.keys()].sort().map((user) => ({ user, errorCode: 0, errorMessage: null, credentialInfos: infos(user) }))
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results } satisfies ResponseOf<typeof DescribeUserScramCredentials>
    }
    const results: Array<Result> = [...named].map(([user, twice]) =>
      twice
        ? {
          user,
          errorCode: ErrorCode.DUPLICATE_RESOURCE,
          errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
          credentialInfos: []
        }
        : all.has(user)
        ? { user, errorCode: 0, errorMessage: null, credentialInfos: infos(user) }
        : {
          user,
          errorCode: ErrorCode.RESOURCE_NOT_FOUND,
          errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
          credentialInfos: []
        }
    )
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results } satisfies ResponseOf<typeof DescribeUserScramCredentials>
  }))
