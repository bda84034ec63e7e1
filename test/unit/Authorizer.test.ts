// The authorizer's rules (services/auth/Authorizer.ts), following the cases of Kafka's StandardAuthorizerTest:
// super users, allow.everyone.if.no.acl.found, implication, principal and host matching, DENY precedence with
// ALL, literal/wildcard/prefixed patterns; then the filters of DescribeAcls/DeleteAcls and binding validation.
import { assert, describe, it } from "@effect/vitest"
import {
  type AclBinding,
  AclOperation as Op,
  authorize,
  authorizeAny,
  type AuthorizerSettings,
  filterMatches,
  indexAcls,
  invalidBinding,
  invalidFilter,
  parseSuperUsers,
  PatternType,
  PermissionType,
  ResourceType
} from "../../src/services/auth/Authorizer.ts"

const { ALLOW, DENY } = PermissionType
const { LITERAL, PREFIXED } = PatternType
const { TOPIC, GROUP, CLUSTER } = ResourceType

const acl = (
  resourceType: number,
  resourceName: string,
  patternType: number,
  principal: string,
  host: string,
  operation: number,
  permissionType: number
): AclBinding => ({ resourceType, resourceName, patternType, principal, host, operation, permissionType })

const settings = (superUsers = "", allowEveryoneIfNoAclFound = false): AuthorizerSettings => ({
  superUsers: parseSuperUsers(superUsers),
  allowEveryoneIfNoAclFound
})

/** The decisions for `user` (User:<user> from 127.0.0.1) over `acls`, one per [operation, type, name]. */
const decide = (
  acls: ReadonlyArray<AclBinding>,
  user: string,
  actions: ReadonlyArray<readonly [number, number, string]>,
  s: AuthorizerSettings = settings(),
  host = "127.0.0.1"
): Array<boolean> => {
  const index = indexAcls(acls)
  return actions.map(([op, type, name]) => authorize(index, s, `User:${user}`, host, op, type, name))
}

const fooAcl = (op: number, permission: number) => acl(TOPIC, "foo_", PREFIXED, "User:bob", "*", op, permission)
const barAcl = (op: number, permission: number) => acl(GROUP, "bar", LITERAL, "User:*", "*", op, permission)

describe("Authorizer rules", () => {
  it("reads super.users as semicolon-separated principals", () => {
    assert.deepStrictEqual([...parseSuperUsers(" User:alice;User:chris ;;")], ["User:alice", "User:chris"])
    assert.deepStrictEqual([...parseSuperUsers(undefined)], [])
  })

  it("allows super users everything, with or without ACLs", () => {
    const acls = [acl(TOPIC, "t", LITERAL, "User:alice", "*", Op.ALL, DENY)]
    assert.deepStrictEqual(decide(acls, "alice", [[Op.WRITE, TOPIC, "t"], [Op.ALTER, CLUSTER, "kafka-cluster"]], settings("User:alice;User:chris")), [true, true])
    assert.deepStrictEqual(decide(acls, "bob", [[Op.WRITE, TOPIC, "t"]], settings("User:alice;User:chris")), [false])
  })

  it("allow.everyone.if.no.acl.found opens only resources that no ACL names", () => {
    const acls = [acl(TOPIC, "topic1", LITERAL, "User:Alice", "*", Op.READ, ALLOW)]
    assert.deepStrictEqual(decide(acls, "Bob", [[Op.READ, TOPIC, "topic1"], [Op.READ, TOPIC, "topic2"]], settings("", true)), [false, true])
    assert.deepStrictEqual(decide(acls, "Bob", [[Op.READ, TOPIC, "topic1"], [Op.READ, TOPIC, "topic2"]], settings("", false)), [false, false])
    assert.deepStrictEqual(decide([], "Bob", [[Op.READ, GROUP, "g"]], settings("", true)), [true])
    assert.deepStrictEqual(decide([], "Bob", [[Op.READ, GROUP, "g"]]), [false])
  })

  it("DESCRIBE is implied by READ, WRITE, DELETE and ALTER; not by CREATE; DENY implies nothing", () => {
    for (const op of [Op.DESCRIBE, Op.READ, Op.WRITE, Op.DELETE, Op.ALTER, Op.ALL]) {
      assert.deepStrictEqual(decide([fooAcl(op, ALLOW)], "bob", [[Op.DESCRIBE, TOPIC, "foo_bar"]]), [true], `ALLOW ${op}`)
    }
    assert.deepStrictEqual(decide([fooAcl(Op.CREATE, ALLOW)], "bob", [[Op.DESCRIBE, TOPIC, "foo_bar"]]), [false])
    for (const op of [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]) {
      // A DENY of READ does not deny DESCRIBE (nor grant it: no ALLOW, so denied by default, yet with
      // allow.everyone... the resource has ACLs, so still denied).
      assert.deepStrictEqual(decide([fooAcl(op, DENY), fooAcl(Op.DESCRIBE, ALLOW)], "bob", [[Op.DESCRIBE, TOPIC, "foo_bar"]]), [true])
    }
    assert.deepStrictEqual(decide([fooAcl(Op.DESCRIBE, DENY), fooAcl(Op.READ, ALLOW)], "bob", [[Op.DESCRIBE, TOPIC, "foo_bar"]]), [false])
  })

  it("DESCRIBE_CONFIGS is implied by ALTER_CONFIGS", () => {
    for (const op of [Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS]) {
      assert.deepStrictEqual(decide([fooAcl(op, ALLOW)], "bob", [[Op.DESCRIBE_CONFIGS, TOPIC, "foo_bar"]]), [true])
    }
    assert.deepStrictEqual(decide([fooAcl(Op.ALTER_CONFIGS, DENY), fooAcl(Op.DESCRIBE_CONFIGS, ALLOW)], "bob", [[Op.DESCRIBE_CONFIGS, TOPIC, "foo_bar"]]), [true])
    assert.deepStrictEqual(decide([fooAcl(Op.ALTER_CONFIGS, DENY), fooAcl(Op.ALL, ALLOW)], "bob", [[Op.ALTER_CONFIGS, TOPIC, "foo_bar"]]), [false])
  })

  it("matches the principal exactly or through User:*", () => {
    assert.deepStrictEqual(decide([fooAcl(Op.READ, ALLOW)], "bob", [[Op.READ, TOPIC, "foo_bar"]]), [true])
    assert.deepStrictEqual(decide([fooAcl(Op.READ, ALLOW)], "alice", [[Op.READ, TOPIC, "foo_bar"]]), [false])
    assert.deepStrictEqual(decide([barAcl(Op.READ, DENY), barAcl(Op.ALL, ALLOW)], "alice", [[Op.READ, GROUP, "bar"], [Op.DELETE, GROUP, "bar"]]), [false, true])
  })

  it("simple authorizations", () => {
    const acls = [fooAcl(Op.READ, ALLOW), fooAcl(Op.WRITE, ALLOW), barAcl(Op.DESCRIBE_CONFIGS, ALLOW), barAcl(Op.ALTER_CONFIGS, ALLOW)]
    assert.deepStrictEqual(decide(acls, "bob", [[Op.READ, TOPIC, "foo_"]]), [true])
    assert.deepStrictEqual(decide(acls, "fred", [[Op.ALTER_CONFIGS, GROUP, "bar"]]), [true])
  })

  it("DENY wins, ALL included", () => {
    const acls = [
      acl(TOPIC, "foo", LITERAL, "User:alice", "*", Op.ALL, DENY),
      acl(TOPIC, "foo", PREFIXED, "User:alice", "*", Op.READ, ALLOW),
      acl(TOPIC, "foo", LITERAL, "User:*", "*", Op.ALL, DENY),
      acl(TOPIC, "foo", PREFIXED, "User:*", "*", Op.DESCRIBE, ALLOW)
    ]
    assert.deepStrictEqual(
      decide(acls, "alice", [[Op.WRITE, TOPIC, "foo"], [Op.READ, TOPIC, "foo"], [Op.DESCRIBE, TOPIC, "foo"], [Op.READ, TOPIC, "foobar"]]),
      [false, false, false, true]
    )
    assert.deepStrictEqual(
      decide(acls, "bob", [[Op.DESCRIBE, TOPIC, "foo"], [Op.READ, TOPIC, "foo"], [Op.WRITE, TOPIC, "foo"], [Op.DESCRIBE, TOPIC, "foobaz"], [Op.READ, TOPIC, "foobaz"]]),
      [false, false, false, true, false]
    )
  })

  it("topic ACLs with ALL", () => {
    const acls = [
      acl(TOPIC, "foo", LITERAL, "User:*", "*", Op.ALL, ALLOW),
      acl(TOPIC, "bar", PREFIXED, "User:alice", "*", Op.ALL, ALLOW),
      acl(TOPIC, "baz", LITERAL, "User:bob", "*", Op.ALL, ALLOW)
    ]
    assert.deepStrictEqual(decide(acls, "alice", [[Op.WRITE, TOPIC, "foo"], [Op.DESCRIBE_CONFIGS, TOPIC, "bar"], [Op.DESCRIBE, TOPIC, "baz"]]), [true, true, false])
    assert.deepStrictEqual(decide(acls, "bob", [[Op.WRITE, TOPIC, "foo"], [Op.READ, TOPIC, "bar"], [Op.DESCRIBE, TOPIC, "baz"]]), [true, false, true])
    assert.deepStrictEqual(decide(acls, "malory", [[Op.DESCRIBE, TOPIC, "foo"], [Op.WRITE, TOPIC, "bar"], [Op.READ, TOPIC, "baz"]]), [true, false, false])
  })

  it("prefixed ACLs", () => {
    const acls = [
      acl(TOPIC, "fooa", PREFIXED, "User:alice", "*", Op.ALL, ALLOW),
      acl(TOPIC, "foobar", LITERAL, "User:bob", "*", Op.ALL, ALLOW),
      acl(TOPIC, "f", PREFIXED, "User:bob", "*", Op.ALL, ALLOW)
    ]
    assert.deepStrictEqual(decide(acls, "bob", [[Op.WRITE, TOPIC, "foobarr"], [Op.READ, TOPIC, "goobar"], [Op.READ, TOPIC, "fooa"]]), [true, false, true])
    assert.deepStrictEqual(decide(acls, "alice", [[Op.DESCRIBE, TOPIC, "fooa"], [Op.WRITE, TOPIC, "bar"], [Op.READ, TOPIC, "baz"]]), [true, false, false])
  })

  it("the literal wildcard * covers every name of its type", () => {
    const acls = [acl(TOPIC, "*", LITERAL, "User:bob", "*", Op.READ, ALLOW), acl(TOPIC, "secret", LITERAL, "User:bob", "*", Op.READ, DENY)]
    assert.deepStrictEqual(decide(acls, "bob", [[Op.READ, TOPIC, "anything"], [Op.READ, TOPIC, "secret"], [Op.READ, GROUP, "anything"]]), [true, false, false])
  })

  it("matches the host exactly or through *", () => {
    const acls = [acl(TOPIC, "t", LITERAL, "User:bob", "192.168.0.1", Op.READ, ALLOW), acl(TOPIC, "u", LITERAL, "User:bob", "*", Op.READ, ALLOW)]
    assert.deepStrictEqual(decide(acls, "bob", [[Op.READ, TOPIC, "t"], [Op.READ, TOPIC, "u"]], settings(), "192.168.0.1"), [true, true])
    assert.deepStrictEqual(decide(acls, "bob", [[Op.READ, TOPIC, "t"], [Op.READ, TOPIC, "u"]], settings(), "10.0.0.1"), [false, true])
  })

  it("WRITE on any topic (idempotent produce) unless a DENY takes it back whole", () => {
    const s = settings()
    const any = (acls: ReadonlyArray<AclBinding>) => authorizeAny(indexAcls(acls), s, "User:bob", "h", Op.WRITE, TOPIC)
    assert.isTrue(any([acl(TOPIC, "orders-", PREFIXED, "User:bob", "*", Op.WRITE, ALLOW)]))
    assert.isTrue(any([acl(TOPIC, "orders", LITERAL, "User:*", "*", Op.ALL, ALLOW)]))
    assert.isFalse(any([acl(TOPIC, "orders", LITERAL, "User:bob", "*", Op.READ, ALLOW)]))
    assert.isFalse(any([acl(TOPIC, "orders-", PREFIXED, "User:bob", "*", Op.WRITE, ALLOW), acl(TOPIC, "*", LITERAL, "User:bob", "*", Op.WRITE, DENY)]))
    assert.isFalse(any([acl(TOPIC, "orders-eu", LITERAL, "User:bob", "*", Op.WRITE, ALLOW), acl(TOPIC, "orders-", PREFIXED, "User:*", "*", Op.ALL, DENY)]))
    assert.isFalse(any([]))
  })
})

describe("ACL filters and validation", () => {
  const literal = acl(TOPIC, "orders", LITERAL, "User:bob", "*", Op.READ, ALLOW)
  const wildcard = acl(TOPIC, "*", LITERAL, "User:bob", "*", Op.READ, ALLOW)
  const prefixed = acl(TOPIC, "ord", PREFIXED, "User:bob", "*", Op.READ, ALLOW)
  const other = acl(GROUP, "orders", LITERAL, "User:alice", "10.0.0.1", Op.WRITE, DENY)
  const all = [literal, wildcard, prefixed, other]
  const filter = (f: Partial<Parameters<typeof filterMatches>[0]>) => ({
    resourceType: ResourceType.ANY,
    resourceName: null,
    patternType: PatternType.ANY,
    principal: null,
    host: null,
    operation: Op.ANY,
    permissionType: PermissionType.ANY,
    ...f
  })
  const matched = (f: Parameters<typeof filterMatches>[0]) => all.filter((b) => filterMatches(f, b))

  it("ANY matches everything, or every pattern of exactly that name", () => {
    assert.deepStrictEqual(matched(filter({})), all)
    assert.deepStrictEqual(matched(filter({ resourceName: "orders" })), [literal, other])
    assert.deepStrictEqual(matched(filter({ resourceType: TOPIC, resourceName: "orders" })), [literal])
  })

  it("MATCH finds the ACLs that apply to a name: its literal, the wildcard, its prefixes", () => {
    assert.deepStrictEqual(matched(filter({ resourceType: TOPIC, resourceName: "orders", patternType: PatternType.MATCH })), [literal, wildcard, prefixed])
    assert.deepStrictEqual(matched(filter({ resourceType: TOPIC, resourceName: "payments", patternType: PatternType.MATCH })), [wildcard])
  })

  it("LITERAL and PREFIXED match that pattern type only", () => {
    assert.deepStrictEqual(matched(filter({ patternType: LITERAL })), [literal, wildcard, other])
    assert.deepStrictEqual(matched(filter({ patternType: PREFIXED })), [prefixed])
    assert.deepStrictEqual(matched(filter({ patternType: PREFIXED, resourceName: "orders" })), [])
  })

  it("principal, host, operation and permission narrow the match", () => {
    assert.deepStrictEqual(matched(filter({ principal: "User:alice" })), [other])
    assert.deepStrictEqual(matched(filter({ host: "10.0.0.1" })), [other])
    assert.deepStrictEqual(matched(filter({ operation: Op.WRITE })), [other])
    assert.deepStrictEqual(matched(filter({ permissionType: ALLOW })), [literal, wildcard, prefixed])
  })

  it("a filter with an UNKNOWN field is refused", () => {
    assert.isNull(invalidFilter(filter({})))
    assert.isNotNull(invalidFilter(filter({ resourceType: ResourceType.UNKNOWN })))
    assert.isNotNull(invalidFilter(filter({ patternType: PatternType.UNKNOWN })))
    assert.isNotNull(invalidFilter(filter({ operation: Op.UNKNOWN })))
    assert.isNotNull(invalidFilter(filter({ permissionType: PermissionType.UNKNOWN })))
  })

  it("a binding must be definite, with a name, a Type:name principal and kafka-cluster as the cluster's name", () => {
    assert.isNull(invalidBinding(literal))
    assert.isNull(invalidBinding(acl(CLUSTER, "kafka-cluster", LITERAL, "User:bob", "*", Op.ALTER, ALLOW)))
    assert.isNotNull(invalidBinding({ ...literal, resourceType: ResourceType.ANY }))
    assert.isNotNull(invalidBinding({ ...literal, patternType: PatternType.MATCH }))
    assert.isNotNull(invalidBinding({ ...literal, patternType: PatternType.ANY }))
    assert.isNotNull(invalidBinding({ ...literal, operation: Op.ANY }))
    assert.isNotNull(invalidBinding({ ...literal, permissionType: PermissionType.ANY }))
    assert.isNotNull(invalidBinding({ ...literal, resourceName: "" }))
    assert.isNotNull(invalidBinding({ ...literal, principal: "bob" }))
    assert.isNotNull(invalidBinding(acl(CLUSTER, "other", LITERAL, "User:bob", "*", Op.ALTER, ALLOW)))
  })
})
