// SaslHandshake (17) v0-1. On SASL_PLAINTEXT and SASL_SSL listeners the connection answers it itself (it owns
// the SASL state: see services/security/Sasl.ts); this handler answers it everywhere else, as Kafka does on a
// listener without SASL: ILLEGAL_SASL_STATE (34) and no mechanisms.
import { Effect } from "effect"
import { SaslHandshake } from "../../protocol/messages/SaslHandshake.ts"
import { ILLEGAL_SASL_STATE } from "../security/Sasl.ts"
import { handler } from "./Handler.ts"

export const make = handler(SaslHandshake, "0-1", () => Effect.succeed({ errorCode: ILLEGAL_SASL_STATE, mechanisms: [] }))
