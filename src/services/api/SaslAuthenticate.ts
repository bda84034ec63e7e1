// SaslAuthenticate (36) v0-2. On SASL_PLAINTEXT and SASL_SSL listeners the connection answers it itself (it owns
// the SASL state: see services/security/Sasl.ts); this handler answers it everywhere else: ILLEGAL_SASL_STATE (34).
import { Effect } from "effect"
import { SaslAuthenticate } from "../../protocol/messages/SaslAuthenticate.ts"
import { ILLEGAL_SASL_STATE } from "../security/Sasl.ts"
import { handler } from "./Handler.ts"

export const make = handler(SaslAuthenticate, "0-2", () =>
  Effect.succeed({
    errorCode: ILLEGAL_SASL_STATE,
    errorMessage: "SASL authentication is not enabled on this listener",
    authBytes: new Uint8Array(0),
    sessionLifetimeMs: 0
  }))
