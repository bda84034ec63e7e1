// DescribeAcls v1-v3 (Kafka 4's range: v0 went with KIP-896). Without `authorizer.class.name`, as Kafka:
// SECURITY_DISABLED (54), "No Authorizer is configured on the broker", no resources. With it, the caller needs
// DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED, 31); a filter with an UNKNOWN field answers
// INVALID_REQUEST (42); else the ACLs the filter matches (Kafka's AclBindingFilter: ANY and MATCH pattern types,
// null fields matching anything), grouped by resource pattern.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeAcls } from "../../protocol/messages/DescribeAcls.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, type AclFilter, CLUSTER_NAME, filterMatches, invalidFilter, ResourceType } from "../auth/Authorizer.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { handler } from "./Handler.ts"

type Response = ResponseOf<typeof DescribeAcls>
type Resource = Response["resources"][number]

export const make = handler(DescribeAcls, "1-3", (request, context) =>
  Effect.gen(function*() {
    const check = yield* Authorization.current
    const fail = (errorCode: number, errorMessage: string): Response => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] })
    if (!check.enabled) return fail(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured on the broker")
    if (!check.can(context.connection, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.")
    }
    const filter: AclFilter = {
      resourceType: request.resourceTypeFilter,
      resourceName: request.resourceNameFilter,
      patternType: request.patternTypeFilter,
      principal: request.principalFilter,
      host: request.hostFilter,
      operation: request.operation,
      permissionType: request.permissionType
    }
    const problem = invalidFilter(filter)
    if (problem !== null) return fail(ErrorCode.INVALID_REQUEST, problem)
    const image = yield* (yield* ClusterMetadata).image
    const resources = new Map<string, Resource & { acls: Array<Resource["acls"][number]> }>()
    for (const acl of image.acls.values()) {
      if (!filterMatches(filter, acl)) continue
      const key = `${acl.resourceType}\u0000${acl.patternType}\u0000${acl.resourceName}`
      let resource = resources.get(key)
      if (resource === undefined) {
        resource = { resourceType: acl.resourceType, resourceName: acl.resourceName, patternType: acl.patternType, acls: [] }
        resources.set(key, resource)
      }
      resource.acls.push({ principal: acl.principal, host: acl.host, operation: acl.operation, permissionType: acl.permissionType })
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: [...resources.values()] } satisfies Response
  }))
