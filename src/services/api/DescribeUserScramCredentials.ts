// DescribeUserScramCredentials v0. Kafka answers this without an authorizer too, from the SCRAM credentials in
// its metadata; this broker has no SASL, so it holds none, and it answers as Kafka does for an empty credential
// store (ScramImage.describe): all users (null or empty list) → no results; each named user → RESOURCE_NOT_FOUND
// (91), a user named twice → DUPLICATE_RESOURCE (92). Admin tools (kafka-configs --describe --entity-type users)
// then see a user without credentials rather than an error.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeUserScramCredentials } from "../../protocol/messages/DescribeUserScramCredentials.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { handler } from "./Handler.ts"

type Result = ResponseOf<typeof DescribeUserScramCredentials>["results"][number]

export const make = handler(DescribeUserScramCredentials, "0", (request) =>
  Effect.sync(() => {
    const named = new Map<string, boolean>()
    for (const { name } of request.users ?? []) named.set(name, named.has(name))
    const results: Array<Result> = [...named].map(([user, twice]) =>
      twice
        ? {
          user,
          errorCode: ErrorCode.DUPLICATE_RESOURCE,
          errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
          credentialInfos: []
        }
        : {
          user,
          errorCode: ErrorCode.RESOURCE_NOT_FOUND,
          errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
          credentialInfos: []
        }
    )
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results } satisfies ResponseOf<typeof DescribeUserScramCredentials>
  }))
