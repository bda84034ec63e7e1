// DeleteAcls v1-v3 (Kafka 4's range). Without an authorizer, as Kafka: every filter answers SECURITY_DISABLED
// (54), "No Authorizer is configured.", with no matching ACLs.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DeleteAcls } from "../../protocol/messages/DeleteAcls.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { handler } from "./Handler.ts"

export const make = handler(DeleteAcls, "1-3", (request) =>
  Effect.succeed({
    throttleTimeMs: 0,
    filterResults: request.filters.map(() => ({
      errorCode: ErrorCode.SECURITY_DISABLED,
      errorMessage: "No Authorizer is configured.",
      matchingAcls: []
    }))
  } satisfies ResponseOf<typeof DeleteAcls>))
