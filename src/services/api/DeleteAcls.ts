// DeleteAcls v1-v3 (Kafka 4's range). Without an authorizer, as Kafka: every filter answers SECURITY_DISABLED
// (54), "No Authorizer is configured.", with no matching ACLs. With one, the caller needs ALTER on the cluster
// (else every filter answers CLUSTER_AUTHORIZATION_FAILED, 31); a filter with an UNKNOWN field answers
// INVALID_REQUEST (42); every other filter removes the ACLs it matches (Kafka's AclBindingFilter) and lists
// them. The removals are written as RemoveAccessControlEntryRecords in one metadata batch.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DeleteAcls } from "../../protocol/messages/DeleteAcls.ts"
import type { NewMetadataRecord } from "../../protocol/MetadataRecords.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, type AclFilter, CLUSTER_NAME, filterMatches, invalidFilter, ResourceType, type StoredAcl } from "../auth/Authorizer.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { handler } from "./Handler.ts"

type Response = ResponseOf<typeof DeleteAcls>

export const make = handler(DeleteAcls, "1-3", (request, context) =>
  Effect.gen(function*() {
    const check = yield* Authorization.current
    const answerAll = (errorCode: number, errorMessage: string): Response => ({
      throttleTimeMs: 0,
      filterResults: request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] }))
    })
    if (!check.enabled) return answerAll(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.")
    if (!check.can(context.connection, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return answerAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.")
    }
    const filters: Array<AclFilter> = request.filters.map((f) => ({
      resourceType: f.resourceTypeFilter,
      resourceName: f.resourceNameFilter,
      patternType: f.patternTypeFilter,
      principal: f.principalFilter,
      host: f.hostFilter,
      operation: f.operation,
      permissionType: f.permissionType
    }))
    const problems = filters.map(invalidFilter)
    const metadata = yield* ClusterMetadata
    const outcome = yield* metadata.update((image) => {
      const removed = new Set<string>()
      const matches = filters.map((f, i): Array<StoredAcl> => {
        if (problems[i] !== null) return []
        const out: Array<StoredAcl> = []
        for (const acl of image.acls.values()) {
          if (filterMatches(f, acl)) {
            out.push(acl)
            removed.add(acl.id)
          }
        }
        return out
      })
      const records: Array<NewMetadataRecord> = [...removed].map((id) => ({ type: "RemoveAccessControlEntry", id }))
      return Effect.succeed({ records, result: matches })
    }).pipe(Effect.result)
    if (outcome._tag === "Failure") {
      yield* Effect.logError(outcome.failure.message)
      return answerAll(outcome.failure.code, outcome.failure.message)
    }
    return {
      throttleTimeMs: 0,
      filterResults: outcome.success.map((matching, i) => {
        const problem = problems[i]
        if (problem !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, matchingAcls: [] }
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          matchingAcls: matching.map((acl) => ({
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            resourceType: acl.resourceType,
            resourceName: acl.resourceName,
            patternType: acl.patternType,
            principal: acl.principal,
            host: acl.host,
            operation: acl.operation,
            permissionType: acl.permissionType
          }))
        }
      })
    } satisfies Response
  }))
