// The authorization service every handler asks: `checker` gives a function deciding (connection's principal and
// host, operation, resource type, name) over the ACLs of the current metadata image, under the rules of
// services/auth/Authorizer.ts. Without `authorizer.class.name` the checker allows everything and is one
// constant, so the hot path pays a single property read; with it, the ACL index is built once per change of the
// image's ACLs and shared by every request.
import { Context, Effect, Layer } from "effect"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import type { ConnectionInfo } from "../api/Handler.ts"
import { OPERATIONS_NOT_REQUESTED } from "../api/lookup.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { ANONYMOUS, type AclIndex, authorize, CLUSTER_NAME, ResourceType, authorizeAny, type AuthorizerSettings, indexAcls, type StoredAcl } from "./Authorizer.ts"

export interface Checker {
  /** Whether `connection`'s principal may do `operation` on the resource. */
  readonly can: (connection: ConnectionInfo, operation: number, resourceType: number, name: string) => boolean
  /** Whether it may do `operation` on some resource of the type (idempotent produce's WRITE on any topic). */
  readonly canAny: (connection: ConnectionInfo, operation: number, resourceType: number) => boolean
  /** The opposite of `can`, false at once without an authorizer. */
  readonly denied: (connection: ConnectionInfo, operation: number, resourceType: number, name: string) => boolean
  /** False when no authorizer is configured: every check allows. */
  readonly enabled: boolean
}

const allowAll: Checker = { can: () => true, canAny: () => true, denied: () => false, enabled: false }

/** The client's address without its port ("127.0.0.1:5000" → "127.0.0.1", "[::1]:5000" → "::1"). */
export const hostOf = (remote: string): string => {
  const colon = remote.lastIndexOf(":")
  const host = colon < 0 ? remote : remote.slice(0, colon)
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
}

export const checkerOf = (acls: Iterable<StoredAcl>, settings: AuthorizerSettings): Checker => {
  const index: AclIndex = indexAcls(acls)
  const can = (c: ConnectionInfo, operation: number, resourceType: number, name: string) =>
    authorize(index, settings, c.principal ?? ANONYMOUS, hostOf(c.remote), operation, resourceType, name)
  return {
    enabled: true,
    can,
    denied: (c, operation, resourceType, name) => !can(c, operation, resourceType, name),
    canAny: (c, operation, resourceType) =>
      authorizeAny(index, settings, c.principal ?? ANONYMOUS, hostOf(c.remote), operation, resourceType)
  }
}

/**
 * The error a config resource answers when `operation` (DESCRIBE_CONFIGS, ALTER_CONFIGS) is denied on it, else 0:
 * a topic (config resource type 2) is the TOPIC resource (29), a broker or broker logger (4, 8) the cluster (31).
 */
export const configResourceRefusal = (
  check: Checker,
  connection: ConnectionInfo,
  operation: number,
  configResourceType: number,
  name: string
): number => {
  if (!check.enabled) return 0
  if (configResourceType === 2) return check.can(connection, operation, ResourceType.TOPIC, name) ? 0 : 29
  if (configResourceType === 4 || configResourceType === 8) {
    return check.can(connection, operation, ResourceType.CLUSTER, CLUSTER_NAME) ? 0 : 31
  }
  return 0
}

/** The operations Kafka reports in the authorizedOperations fields, by resource type (its AclEntry.supportedOperations). */
const SUPPORTED_OPERATIONS: Readonly<Record<number, ReadonlyArray<number>>> = {
  [ResourceType.TOPIC]: [3, 4, 5, 6, 7, 8, 10, 11], // READ WRITE CREATE DELETE ALTER DESCRIBE DESCRIBE_CONFIGS ALTER_CONFIGS
  [ResourceType.GROUP]: [3, 6, 8], // READ DELETE DESCRIBE
  [ResourceType.CLUSTER]: [5, 7, 8, 9, 10, 11, 12], // CREATE ALTER DESCRIBE CLUSTER_ACTION DESCRIBE_CONFIGS ALTER_CONFIGS IDEMPOTENT_WRITE
  [ResourceType.TRANSACTIONAL_ID]: [4, 8] // WRITE DESCRIBE
}

/**
 * An authorizedOperations field: the bit set of the resource's operations the principal may do, or
 * OPERATIONS_NOT_REQUESTED when the request did not ask for it.
 */
export const authorizedOperations = (
  check: Checker,
  connection: ConnectionInfo,
  requested: boolean,
  resourceType: number,
  name: string
): number => {
  if (!requested) return OPERATIONS_NOT_REQUESTED
  let bits = 0
  for (const op of SUPPORTED_OPERATIONS[resourceType] ?? []) {
    if (check.can(connection, op, resourceType, name)) bits |= 1 << op
  }
  return bits
}

export class Authorization extends Context.Service<Authorization, {
  /** The checker for the current ACLs: take it once per request. */
  readonly checker: Effect.Effect<Checker>
  readonly enabled: boolean
}>()("kafka/Authorization") {
  static readonly layer = Layer.effect(
    Authorization,
    Effect.gen(function*() {
      const config = yield* BrokerConfig
      if (!config.authorizerEnabled) return Authorization.of({ checker: Effect.succeed(allowAll), enabled: false })
      const metadata = yield* ClusterMetadata
      const settings: AuthorizerSettings = {
        superUsers: config.superUsers,
        allowEveryoneIfNoAclFound: config.allowEveryoneIfNoAclFound
      }
      let cachedFor: ReadonlyMap<string, StoredAcl> | undefined
      let cached: Checker = allowAll
      return Authorization.of({
        enabled: true,
        checker: Effect.map(metadata.image, (image) => {
          if (image.acls !== cachedFor) {
            cachedFor = image.acls
            cached = checkerOf(image.acls.values(), settings)
          }
          return cached
        })
      })
    })
  )

  /**
   * The checker of the request: allows everything when no Authorization is in the context (a handler called
   * without a broker's layers) or no authorizer is configured.
   */
  static readonly current: Effect.Effect<Checker> = Effect.flatMap(
    Effect.serviceOption(Authorization),
    (a) => (a._tag === "Some" ? a.value.checker : Effect.succeed(allowAll))
  )

  /** Allows everything (handlers called without a broker's layers). */
  static readonly layerAllowAll = Layer.succeed(Authorization, Authorization.of({ checker: Effect.succeed(allowAll), enabled: false }))
}
