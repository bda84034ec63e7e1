// CreateAcls v1-v3 (Kafka 4's range). Without an authorizer, as Kafka: every creation answers SECURITY_DISABLED
// (54), "No Authorizer is configured."; nothing is stored. With one, the caller needs ALTER on the cluster (else
// every creation answers CLUSTER_AUTHORIZATION_FAILED, 31); each binding is checked on its own (INVALID_REQUEST,
// 42, with Kafka's message: an UNKNOWN/ANY field, a MATCH or ANY pattern, an empty name, a CLUSTER resource not
// named kafka-cluster, a principal without "Type:"); the valid ones are written as AccessControlEntryRecords in
// one metadata batch. A binding that already exists is not stored twice and succeeds.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { CreateAcls } from "../../protocol/messages/CreateAcls.ts"
import type { NewMetadataRecord } from "../../protocol/MetadataRecords.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, type AclBinding, CLUSTER_NAME, invalidBinding, ResourceType, sameBinding } from "../auth/Authorizer.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { handler } from "./Handler.ts"

type Response = ResponseOf<typeof CreateAcls>

export const make = handler(CreateAcls, "1-3", (request, context) =>
  Effect.gen(function*() {
    const check = yield* Authorization.current
    const answerAll = (errorCode: number, errorMessage: string | null): Response => ({
      throttleTimeMs: 0,
      results: request.creations.map(() => ({ errorCode, errorMessage }))
    })
    if (!check.enabled) return answerAll(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.")
    if (!check.can(context.connection, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return answerAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.")
    }
    const bindings: Array<AclBinding> = request.creations.map((c) => ({
      resourceType: c.resourceType,
      resourceName: c.resourceName,
      patternType: c.resourcePatternType,
      principal: c.principal,
      host: c.host,
      operation: c.operation,
      permissionType: c.permissionType
    }))
    const problems = bindings.map(invalidBinding)
    const metadata = yield* ClusterMetadata
    const written = yield* metadata.update((image) => {
      const records: Array<NewMetadataRecord> = []
      const existing = [...image.acls.values()]
      const added: Array<AclBinding> = []
      bindings.forEach((b, i) => {
        if (problems[i] !== null) return
        if (existing.some((e) => sameBinding(e, b)) || added.some((e) => sameBinding(e, b))) return
        added.push(b)
        records.push({ type: "AccessControlEntry", id: crypto.randomUUID(), ...b })
      })
      return Effect.succeed({ records, result: undefined })
    }).pipe(Effect.result)
    if (written._tag === "Failure") {
      yield* Effect.logError(written.failure.message)
      return {
        throttleTimeMs: 0,
        results: problems.map((p) =>
          p === null
            ? { errorCode: written.failure.code, errorMessage: written.failure.message }
            : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: p }
        )
      } satisfies Response
    }
    return {
      throttleTimeMs: 0,
      results: problems.map((p) =>
        p === null ? { errorCode: ErrorCode.NONE, errorMessage: null } : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: p }
      )
    } satisfies Response
  }))
