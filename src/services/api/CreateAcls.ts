// CreateAcls v1-v3 (Kafka 4's range). Without an authorizer, as Kafka: every creation answers SECURITY_DISABLED
// (54), "No Authorizer is configured."; nothing is stored.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { CreateAcls } from "../../protocol/messages/CreateAcls.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { handler } from "./Handler.ts"

export const make = handler(CreateAcls, "1-3", (request) =>
  Effect.succeed({
    throttleTimeMs: 0,
    results: request.creations.map(() => ({
      errorCode: ErrorCode.SECURITY_DISABLED,
      errorMessage: "No Authorizer is configured."
    }))
  } satisfies ResponseOf<typeof CreateAcls>))
