// The authorizer's rules, pure: Kafka's StandardAuthorizer over a list of ACLs. A request by `principal` from
// `host` to do `operation` on a resource is
// - allowed for a super user (`super.users`, semicolon-separated principals);
// - else denied when a DENY ACL matches (its pattern covers the resource: a literal of the same name, the literal
//   wildcard `*`, or a prefix of the name; its principal is the requester's or `User:*`; its host the client's
//   address or `*`; its operation the requested one or ALL);
// - else allowed when an ALLOW ACL matches, where an ALLOW also covers the operations it implies (DESCRIBE is
//   implied by READ, WRITE, DELETE and ALTER; DESCRIBE_CONFIGS by ALTER_CONFIGS);
// - else, when no ACL at all names the resource, allowed only with `allow.everyone.if.no.acl.found`; else denied.
// Filters (DescribeAcls, DeleteAcls) match bindings as Kafka's AclBindingFilter, with the ANY and MATCH pattern
// types.

/** Kafka's ResourceType codes. */
export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7
} as const

/** Kafka's PatternType codes. */
export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const

/** Kafka's AclOperation codes. */
export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14
} as const

/** Kafka's AclPermissionType codes. */
export const PermissionType = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const

/** The name of the one CLUSTER resource. */
export const CLUSTER_NAME = "kafka-cluster"
export const WILDCARD = "*"
export const WILDCARD_PRINCIPAL = "User:*"
export const ANONYMOUS = "User:ANONYMOUS"

export interface AclBinding {
  readonly resourceType: number
  readonly resourceName: string
  readonly patternType: number
  readonly principal: string
  readonly host: string
  readonly operation: number
  readonly permissionType: number
}

/** An ACL as stored: a binding and the id its records carry. */
export interface StoredAcl extends AclBinding {
  readonly id: string
}

export interface AclFilter {
  readonly resourceType: number
  readonly resourceName: string | null
  readonly patternType: number
  readonly principal: string | null
  readonly host: string | null
  readonly operation: number
  readonly permissionType: number
}

export interface AuthorizerSettings {
  readonly superUsers: ReadonlySet<string>
  readonly allowEveryoneIfNoAclFound: boolean
}

/** `super.users` as Kafka reads it: semicolon-separated principals, blanks ignored. */
export const parseSuperUsers = (value: string | undefined): ReadonlySet<string> =>
  new Set((value ?? "").split(";").map((s) => s.trim()).filter((s) => s.length > 0))

const patternCovers = (acl: AclBinding, name: string): boolean =>
  acl.patternType === PatternType.LITERAL
    ? acl.resourceName === name || acl.resourceName === WILDCARD
    : acl.patternType === PatternType.PREFIXED && name.startsWith(acl.resourceName)

/** Whether an ALLOW of `granted` covers `requested`. */
const implies = (granted: number, requested: number): boolean => {
  if (granted === requested || granted === AclOperation.ALL) return true
  if (requested === AclOperation.DESCRIBE) {
    return granted === AclOperation.READ || granted === AclOperation.WRITE || granted === AclOperation.DELETE ||
      granted === AclOperation.ALTER
  }
  return requested === AclOperation.DESCRIBE_CONFIGS && granted === AclOperation.ALTER_CONFIGS
}

const appliesTo = (acl: AclBinding, principal: string, host: string): boolean =>
  (acl.principal === principal || acl.principal === WILDCARD_PRINCIPAL) && (acl.host === WILDCARD || acl.host === host)

/** The ACLs of one resource type, kept apart so a check scans only those. */
export type AclIndex = ReadonlyMap<number, ReadonlyArray<AclBinding>>

export const indexAcls = (acls: Iterable<AclBinding>): AclIndex => {
  const out = new Map<number, Array<AclBinding>>()
  for (const acl of acls) {
    const list = out.get(acl.resourceType)
    if (list === undefined) out.set(acl.resourceType, [acl])
    else list.push(acl)
  }
  return out
}

/** The decision for one request. */
export const authorize = (
  index: AclIndex,
  settings: AuthorizerSettings,
  principal: string,
  host: string,
  operation: number,
  resourceType: number,
  resourceName: string
): boolean => {
  if (settings.superUsers.has(principal)) return true
  const acls = index.get(resourceType)
  if (acls === undefined || acls.length === 0) return settings.allowEveryoneIfNoAclFound
  let anyForResource = false
  let allowed = false
  for (const acl of acls) {
    if (!patternCovers(acl, resourceName)) continue
    anyForResource = true
    if (!appliesTo(acl, principal, host)) continue
    if (acl.permissionType === PermissionType.DENY) {
      if (acl.operation === operation || acl.operation === AclOperation.ALL) return false
    } else if (acl.permissionType === PermissionType.ALLOW && implies(acl.operation, operation)) {
      allowed = true
    }
  }
  return allowed || (!anyForResource && settings.allowEveryoneIfNoAclFound)
}

/**
 * Whether `principal` may do `operation` on at least one resource of the type (Kafka's authorizeByResourceType,
 * used for idempotent produce without IDEMPOTENT_WRITE): some ALLOW applies that no DENY of the principal
 * takes back whole (a DENY literal `*`, or a DENY prefix of the ALLOW's name).
 */
export const authorizeAny = (
  index: AclIndex,
  settings: AuthorizerSettings,
  principal: string,
  host: string,
  operation: number,
  resourceType: number
): boolean => {
  if (settings.superUsers.has(principal)) return true
  const acls = (index.get(resourceType) ?? []).filter((acl) => appliesTo(acl, principal, host))
  const denies = acls.filter((acl) =>
    acl.permissionType === PermissionType.DENY && (acl.operation === operation || acl.operation === AclOperation.ALL)
  )
  const deniedWhole = (allow: AclBinding): boolean =>
    denies.some((deny) =>
      (deny.patternType === PatternType.LITERAL && deny.resourceName === WILDCARD) ||
      (deny.patternType === PatternType.PREFIXED && allow.resourceName.startsWith(deny.resourceName)) ||
      (deny.patternType === PatternType.LITERAL && allow.patternType === PatternType.LITERAL &&
        deny.resourceName === allow.resourceName)
    )
  return acls.some((acl) =>
    acl.permissionType === PermissionType.ALLOW && (acl.operation === operation || acl.operation === AclOperation.ALL) &&
    !deniedWhole(acl)
  )
}

// ---------------------------------------------------------------------------------------------------------
// Validation and filters

/** Why a binding cannot be created (Kafka answers INVALID_REQUEST with this), or null when it can. */
export const invalidBinding = (b: AclBinding): string | null => {
  if (b.resourceType <= ResourceType.ANY || b.resourceType > ResourceType.USER) return "Invalid resourceType " + b.resourceType
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) {
    return "Invalid patternType " + b.patternType
  }
  if (b.operation <= AclOperation.ANY || b.operation > AclOperation.DESCRIBE_TOKENS) return "Invalid operation " + b.operation
  if (b.permissionType !== PermissionType.ALLOW && b.permissionType !== PermissionType.DENY) {
    return "Invalid permissionType " + b.permissionType
  }
  if (b.resourceName.length === 0) return "Resource name should not be empty"
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) {
    return "The only valid name for the CLUSTER resource is " + CLUSTER_NAME
  }
  const colon = b.principal.indexOf(":")
  if (colon <= 0) return "Could not parse principal from `" + b.principal + "` (no colon is present separating the principal type from the principal name)"
  if (b.host.length === 0) return "Invalid host: empty"
  return null
}

/** Why a filter cannot be used (a field UNKNOWN), or null. */
export const invalidFilter = (f: AclFilter): string | null => {
  if (f.resourceType === ResourceType.UNKNOWN || f.resourceType > ResourceType.USER) return "Resource type is UNKNOWN."
  if (f.patternType === PatternType.UNKNOWN || f.patternType > PatternType.PREFIXED) return "Pattern type is UNKNOWN."
  if (f.operation === AclOperation.UNKNOWN || f.operation > AclOperation.DESCRIBE_TOKENS) return "Operation is UNKNOWN."
  if (f.permissionType === PermissionType.UNKNOWN || f.permissionType > PermissionType.ALLOW) return "Permission type is UNKNOWN."
  return null
}

const patternMatches = (f: AclFilter, b: AclBinding): boolean => {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false
  switch (f.patternType) {
    case PatternType.ANY:
      return f.resourceName === null || f.resourceName === b.resourceName
    case PatternType.MATCH:
      // The bindings that would apply to the named resource: its literal, the wildcard, its prefixes.
      if (f.resourceName === null) return true
      return b.patternType === PatternType.LITERAL
        ? b.resourceName === f.resourceName || b.resourceName === WILDCARD
        : b.patternType === PatternType.PREFIXED && f.resourceName.startsWith(b.resourceName)
    default:
      return f.patternType === b.patternType && (f.resourceName === null || f.resourceName === b.resourceName)
  }
}

/** Whether `f` matches `b` (Kafka's AclBindingFilter.matches). */
export const filterMatches = (f: AclFilter, b: AclBinding): boolean =>
  patternMatches(f, b) &&
  (f.principal === null || f.principal === b.principal) &&
  (f.host === null || f.host === b.host) &&
  (f.operation === AclOperation.ANY || f.operation === b.operation) &&
  (f.permissionType === PermissionType.ANY || f.permissionType === b.permissionType)

export const sameBinding = (a: AclBinding, b: AclBinding): boolean =>
  a.resourceType === b.resourceType && a.resourceName === b.resourceName && a.patternType === b.patternType &&
  a.principal === b.principal && a.host === b.host && a.operation === b.operation &&
  a.permissionType === b.permissionType
