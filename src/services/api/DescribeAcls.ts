// DescribeAcls v1-v3 (Kafka 4's range: v0 went with KIP-896). The broker has no authorizer yet, so it answers
// as Kafka does without `authorizer.class.name`: SECURITY_DISABLED (54), "No Authorizer is configured on the
// broker", no resources.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeAcls } from "../../protocol/messages/DescribeAcls.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { handler } from "./Handler.ts"

export const make = handler(DescribeAcls, "1-3", () =>
  Effect.succeed({
    throttleTimeMs: 0,
    errorCode: ErrorCode.SECURITY_DISABLED,
    errorMessage: "No Authorizer is configured on the broker",
    resources: []
  } satisfies ResponseOf<typeof DescribeAcls>))
