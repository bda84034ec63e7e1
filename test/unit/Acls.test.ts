// ACLs over the live metadata log on the in-memory file system, with
// authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer: CreateAcls / DescribeAcls /
// DeleteAcls (filters, per-creation and per-filter errors, ALTER/DESCRIBE on the cluster, persistence over a
// restart), then per-API refusals: a principal without ACLs refused per operation with Kafka's codes (29, 30,
// 31, 53), granted prefixed WRITE/READ it works, revoked it is refused again.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import { ErrorCode } from "../../src/protocol/ErrorCode.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import * as AlterUserScramCredentials from "../../src/services/api/AlterUserScramCredentials.ts"
import * as CreateAcls from "../../src/services/api/CreateAcls.ts"
import * as DescribeCluster from "../../src/services/api/DescribeCluster.ts"
import * as DescribeQuorum from "../../src/services/api/DescribeQuorum.ts"
import * as DescribeUserScramCredentials from "../../src/services/api/DescribeUserScramCredentials.ts"
import * as CreateTopics from "../../src/services/api/CreateTopics.ts"
import * as DeleteAcls from "../../src/services/api/DeleteAcls.ts"
import * as DeleteGroups from "../../src/services/api/DeleteGroups.ts"
import * as DeleteTopics from "../../src/services/api/DeleteTopics.ts"
import * as DescribeAcls from "../../src/services/api/DescribeAcls.ts"
import * as DescribeConfigs from "../../src/services/api/DescribeConfigs.ts"
import * as EndTxn from "../../src/services/api/EndTxn.ts"
import * as Fetch from "../../src/services/api/Fetch.ts"
import * as FindCoordinator from "../../src/services/api/FindCoordinator.ts"
import * as InitProducerId from "../../src/services/api/InitProducerId.ts"
import * as JoinGroup from "../../src/services/api/JoinGroup.ts"
import * as ListOffsets from "../../src/services/api/ListOffsets.ts"
import * as Metadata from "../../src/services/api/Metadata.ts"
import * as OffsetCommit from "../../src/services/api/OffsetCommit.ts"
import * as OffsetFetch from "../../src/services/api/OffsetFetch.ts"
import * as DescribeTopicPartitions from "../../src/services/api/DescribeTopicPartitions.ts"
import * as ListPartitionReassignments from "../../src/services/api/ListPartitionReassignments.ts"
import * as OffsetDelete from "../../src/services/api/OffsetDelete.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import * as AddOffsetsToTxn from "../../src/services/api/AddOffsetsToTxn.ts"
import * as AddPartitionsToTxn from "../../src/services/api/AddPartitionsToTxn.ts"
import * as CreatePartitions from "../../src/services/api/CreatePartitions.ts"
import * as DeleteRecords from "../../src/services/api/DeleteRecords.ts"
import * as DescribeClientQuotas from "../../src/services/api/DescribeClientQuotas.ts"
import * as DescribeLogDirs from "../../src/services/api/DescribeLogDirs.ts"
import * as ElectLeaders from "../../src/services/api/ElectLeaders.ts"
import * as Heartbeat from "../../src/services/api/Heartbeat.ts"
import * as IncrementalAlterConfigs from "../../src/services/api/IncrementalAlterConfigs.ts"
import * as LeaveGroup from "../../src/services/api/LeaveGroup.ts"
import * as SyncGroup from "../../src/services/api/SyncGroup.ts"
import * as TxnOffsetCommit from "../../src/services/api/TxnOffsetCommit.ts"
import { imageRecords, replay } from "../../src/services/metadata/MetadataImage.ts"
import { decodeMetadataRecord, encodeMetadataRecord } from "../../src/protocol/MetadataRecords.ts"
import { AclOperation as Op, PatternType, PermissionType, ResourceType } from "../../src/services/auth/Authorizer.ts"
import { type BrokerOptions, callResponse, layer } from "../support/TestLayers.ts"

const AUTHORIZER = { "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer" }
const ADMIN = { principal: "User:admin" }
const BOB = { principal: "User:bob" }

const secured = (fs = MemoryFileSystem.make(), options: BrokerOptions = {}) =>
  layer(fs, {
    ...options,
    properties: { ...AUTHORIZER, "super.users": "User:admin", ...options.properties }
  })

const binding = (
  resourceType: number,
  resourceName: string,
  resourcePatternType: number,
  operation: number,
  principal = "User:bob",
  permissionType: number = PermissionType.ALLOW
) => ({ resourceType, resourceName, resourcePatternType, principal, host: "*", operation, permissionType })

interface Filter {
  resourceTypeFilter: number
  resourceNameFilter: string | null
  patternTypeFilter: number
  principalFilter: string | null
  hostFilter: string | null
  operation: number
  permissionType: number
}
const anyFilter: Filter = {
  resourceTypeFilter: ResourceType.ANY,
  resourceNameFilter: null,
  patternTypeFilter: PatternType.ANY,
  principalFilter: null,
  hostFilter: null,
  operation: Op.ANY,
  permissionType: PermissionType.ANY
}

const create = (creations: ReadonlyArray<ReturnType<typeof binding>>, as = ADMIN) =>
  callResponse(CreateAcls.make, 3, { creations: [...creations] }, as)
const describeAcls = (filter: Partial<Filter> = {}, as = ADMIN) =>
  callResponse(DescribeAcls.make, 3, { ...anyFilter, ...filter }, as)
const deleteAcls = (filters: ReadonlyArray<Partial<Filter>>, as = ADMIN) =>
  callResponse(DeleteAcls.make, 3, { filters: filters.map((f) => ({ ...anyFilter, ...f })) }, as)

describe("ACL APIs with the StandardAuthorizer", () => {
  it.effect("creates, describes (ANY, MATCH, LITERAL, PREFIXED filters) and deletes ACLs", () =>
    Effect.gen(function*() {
      const created = yield* create([
        binding(ResourceType.TOPIC, "orders", PatternType.LITERAL, Op.READ),
        binding(ResourceType.TOPIC, "ord", PatternType.PREFIXED, Op.WRITE),
        binding(ResourceType.TOPIC, "*", PatternType.LITERAL, Op.DESCRIBE, "User:*"),
        binding(ResourceType.GROUP, "g1", PatternType.LITERAL, Op.READ, "User:alice", PermissionType.DENY)
      ])
      assert.deepStrictEqual(created.results.map((r) => r.errorCode), [0, 0, 0, 0])
      const all = yield* describeAcls()
      assert.strictEqual(all.errorCode, ErrorCode.NONE)
      assert.strictEqual(all.resources.length, 4)
      const match = yield* describeAcls({ resourceTypeFilter: ResourceType.TOPIC, resourceNameFilter: "orders", patternTypeFilter: PatternType.MATCH })
      assert.deepStrictEqual(match.resources.map((r) => [r.resourceName, r.patternType]).sort(), [["*", 3], ["ord", 4], ["orders", 3]])
      const prefixed = yield* describeAcls({ patternTypeFilter: PatternType.PREFIXED })
      assert.deepStrictEqual(prefixed.resources.map((r) => r.resourceName), ["ord"])
      const alice = yield* describeAcls({ principalFilter: "User:alice" })
      assert.deepStrictEqual(alice.resources, [{
        resourceType: ResourceType.GROUP,
        resourceName: "g1",
        patternType: PatternType.LITERAL,
        acls: [{ principal: "User:alice", host: "*", operation: Op.READ, permissionType: PermissionType.DENY }]
      }])

      const deleted = yield* deleteAcls([{ resourceTypeFilter: ResourceType.TOPIC, patternTypeFilter: PatternType.LITERAL }, { resourceTypeFilter: 0 }])
      assert.deepStrictEqual(deleted.filterResults.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.INVALID_REQUEST])
      assert.deepStrictEqual(deleted.filterResults[0]!.matchingAcls.map((a) => a.resourceName).sort(), ["*", "orders"])
      const left = yield* describeAcls()
      assert.deepStrictEqual(left.resources.map((r) => r.resourceName).sort(), ["g1", "ord"])
    }).pipe(Effect.provide(secured())))

  it.effect("answers INVALID_REQUEST per bad binding and stores the others; an existing binding is not doubled", () =>
    Effect.gen(function*() {
      const created = yield* create([
        binding(ResourceType.TOPIC, "t", PatternType.LITERAL, Op.READ),
        binding(ResourceType.TOPIC, "t", PatternType.MATCH, Op.READ),
        binding(ResourceType.ANY, "t", PatternType.LITERAL, Op.READ),
        binding(ResourceType.TOPIC, "t", PatternType.LITERAL, Op.ANY),
        binding(ResourceType.CLUSTER, "other", PatternType.LITERAL, Op.ALTER),
        { ...binding(ResourceType.TOPIC, "t", PatternType.LITERAL, Op.READ), principal: "bob" },
        binding(ResourceType.TOPIC, "t", PatternType.LITERAL, Op.READ)
      ])
      assert.deepStrictEqual(created.results.map((r) => r.errorCode), [0, 42, 42, 42, 42, 42, 0])
      assert.match(created.results[4]!.errorMessage!, /kafka-cluster/)
      const all = yield* describeAcls()
      assert.strictEqual(all.resources.length, 1)
      assert.strictEqual(all.resources[0]!.acls.length, 1)
      const bad = yield* describeAcls({ operation: Op.UNKNOWN })
      assert.strictEqual(bad.errorCode, ErrorCode.INVALID_REQUEST)
    }).pipe(Effect.provide(secured())))

  it.effect("needs ALTER on the cluster to create and delete, DESCRIBE to describe (else 31)", () =>
    Effect.gen(function*() {
      const refused = yield* create([binding(ResourceType.TOPIC, "t", PatternType.LITERAL, Op.READ)], BOB)
      assert.deepStrictEqual(refused.results.map((r) => r.errorCode), [ErrorCode.CLUSTER_AUTHORIZATION_FAILED])
      assert.strictEqual((yield* describeAcls({}, BOB)).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
      assert.deepStrictEqual((yield* deleteAcls([{}], BOB)).filterResults.map((r) => r.errorCode), [ErrorCode.CLUSTER_AUTHORIZATION_FAILED])
      // DESCRIBE is implied by ALTER: granted ALTER on the cluster, bob manages ACLs.
      yield* create([binding(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, Op.ALTER)])
      assert.strictEqual((yield* describeAcls({}, BOB)).errorCode, ErrorCode.NONE)
      assert.deepStrictEqual((yield* create([binding(ResourceType.TOPIC, "t", PatternType.LITERAL, Op.READ)], BOB)).results.map((r) => r.errorCode), [0])
    }).pipe(Effect.provide(secured())))

  it.effect("ACLs survive a restart (AccessControlEntryRecords replayed), deletions too", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* create([
        binding(ResourceType.TOPIC, "a", PatternType.LITERAL, Op.READ),
        binding(ResourceType.TOPIC, "b", PatternType.PREFIXED, Op.WRITE)
      ]).pipe(Effect.provide(secured(fs)))
      yield* deleteAcls([{ resourceNameFilter: "a" }]).pipe(Effect.provide(secured(fs)))
      const after = yield* describeAcls().pipe(Effect.provide(secured(fs)))
      assert.deepStrictEqual(after.resources.map((r) => [r.resourceName, r.patternType]), [["b", PatternType.PREFIXED]])
    }))

  it("AccessControlEntryRecords round-trip through their codec and through a snapshot's records", () => {
    const record = {
      type: "AccessControlEntry" as const,
      id: "5b0e2b0c-4a5e-4a86-9a3c-2f1d7b1c9e11",
      resourceType: ResourceType.TOPIC,
      resourceName: "orders-",
      patternType: PatternType.PREFIXED,
      principal: "User:bob",
      host: "*",
      operation: Op.READ,
      permissionType: PermissionType.ALLOW
    }
    assert.deepStrictEqual(decodeMetadataRecord(encodeMetadataRecord(record)), { ...record, version: 0 })
    const removal = { type: "RemoveAccessControlEntry" as const, id: record.id }
    assert.deepStrictEqual(decodeMetadataRecord(encodeMetadataRecord(removal)), { ...removal, version: 0 })
    const image = replay([record, { ...record, id: "6b0e2b0c-4a5e-4a86-9a3c-2f1d7b1c9e11", resourceName: "x" }, { type: "RemoveAccessControlEntry", id: "6b0e2b0c-4a5e-4a86-9a3c-2f1d7b1c9e11" }])
    assert.deepStrictEqual([...image.acls.keys()], [record.id])
    assert.deepStrictEqual(replay(imageRecords(image)).acls, image.acls)
  })

  it.effect("without the authorizer the ACL APIs answer SECURITY_DISABLED (54)", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual((yield* create([binding(ResourceType.TOPIC, "t", PatternType.LITERAL, Op.READ)])).results.map((r) => r.errorCode), [54])
      assert.strictEqual((yield* describeAcls()).errorCode, 54)
      assert.deepStrictEqual((yield* deleteAcls([{}])).filterResults.map((r) => r.errorCode), [54])
    }).pipe(Effect.provide(layer(MemoryFileSystem.make()))))

  it.effect("rejects an authorizer class it does not implement", () =>
    Effect.gen(function*() {
      const result = yield* Effect.result(
        describeAcls().pipe(Effect.provide(layer(MemoryFileSystem.make(), { properties: { "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer" } })))
      )
      assert.strictEqual(result._tag, "Failure")
    }))
})

// ---------------------------------------------------------------------------------------------------------
// Per-API refusals

const produce = (topic: string, as = BOB, transactionalId: string | null = null) =>
  callResponse(Produce.make, 9, {
    transactionalId,
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: encodeBatch([{ value: new Uint8Array([1, 2, 3]) }]) }] }]
  }, as)

const fetch = (topic: string, as = BOB) =>
  callResponse(Fetch.make, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic,
      topicId: ZERO_UUID,
      partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }]
    }],
    forgottenTopicsData: [],
    rackId: ""
  }, as)

const metadata = (topics: ReadonlyArray<string> | null, as = BOB, allowAutoTopicCreation = false) =>
  callResponse(Metadata.make, 12, {
    topics: topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name })),
    allowAutoTopicCreation,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false
  }, as)

const commit = (group: string, topic: string, as = BOB) =>
  callResponse(OffsetCommit.make, 8, {
    groupId: group,
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: "" }] }]
  }, as)

const produceCode = (r: Effect.Success<ReturnType<typeof produce>>) => r.responses[0]!.partitionResponses[0]!.errorCode
const fetchCode = (r: Effect.Success<ReturnType<typeof fetch>>) => r.responses[0]!.partitions[0]!.errorCode

describe("Per-API authorization", () => {
  const topics = { "orders-eu": 1, "orders-us": 1, "payments": 1 }

  it.effect("a principal without ACLs is refused per operation with Kafka's codes", () =>
    Effect.gen(function*() {
      assert.strictEqual(produceCode(yield* produce("orders-eu")), ErrorCode.TOPIC_AUTHORIZATION_FAILED)
      assert.strictEqual(fetchCode(yield* fetch("orders-eu")), ErrorCode.TOPIC_AUTHORIZATION_FAILED)
      // Named: 29, even for a topic that does not exist; list-all: left out.
      const named = yield* metadata(["orders-eu", "nope"])
      assert.deepStrictEqual(named.topics.map((t) => t.errorCode), [29, 29])
      assert.deepStrictEqual((yield* metadata(null)).topics, [])
      assert.deepStrictEqual((yield* metadata(null, ADMIN)).topics.map((t) => t.name), ["orders-eu", "orders-us", "payments"])
      const offsets = yield* callResponse(ListOffsets.make, 7, {
        replicaId: -1,
        isolationLevel: 0,
        timeoutMs: 1000,
        topics: [{ name: "payments", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 }] }]
      }, BOB)
      assert.strictEqual(offsets.topics[0]!.partitions[0]!.errorCode, 29)
      assert.deepStrictEqual((yield* commit("g", "orders-eu")).topics[0]!.partitions.map((p) => p.errorCode), [30])
      const joined = yield* callResponse(JoinGroup.make, 5, {
        groupId: "g",
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: "",
        groupInstanceId: null,
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: new Uint8Array(0) }],
        reason: null
      }, BOB)
      assert.strictEqual(joined.errorCode, 30)
      const coordinator = yield* callResponse(FindCoordinator.make, 4, { key: "", keyType: 0, coordinatorKeys: ["g"] }, BOB)
      assert.strictEqual(coordinator.coordinators[0]!.errorCode, 30)
      const txnCoordinator = yield* callResponse(FindCoordinator.make, 4, { key: "", keyType: 1, coordinatorKeys: ["tx"] }, BOB)
      assert.strictEqual(txnCoordinator.coordinators[0]!.errorCode, 53)
      const fetched = yield* callResponse(OffsetFetch.make, 7, { groupId: "g", topics: null, groups: [], requireStable: false }, BOB)
      assert.strictEqual(fetched.errorCode, 30)
      const deletedGroups = yield* callResponse(DeleteGroups.make, 2, { groupsNames: ["g"] }, BOB)
      assert.strictEqual(deletedGroups.results[0]!.errorCode, 30)
      const createdTopics = yield* callResponse(CreateTopics.make, 5, {
        topics: [{ name: "new", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 1000,
        validateOnly: false
      }, BOB)
      assert.strictEqual(createdTopics.topics[0]!.errorCode, 29)
      const deletedTopics = yield* callResponse(DeleteTopics.make, 5, { topics: [], topicNames: ["payments"], timeoutMs: 1000 }, BOB)
      assert.strictEqual(deletedTopics.responses[0]!.errorCode, 29)
      const configs = yield* callResponse(DescribeConfigs.make, 4, {
        resources: [{ resourceType: 2, resourceName: "payments", configurationKeys: null }, { resourceType: 4, resourceName: "1", configurationKeys: null }],
        includeSynonyms: false,
        includeDocumentation: false
      }, BOB)
      assert.deepStrictEqual(configs.results.map((r) => r.errorCode), [29, 31])
      const idempotent = yield* callResponse(InitProducerId.make, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }, BOB)
      assert.strictEqual(idempotent.errorCode, 31)
      const transactional = yield* callResponse(InitProducerId.make, 4, { transactionalId: "tx", transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }, BOB)
      assert.strictEqual(transactional.errorCode, 53)
      const ended = yield* callResponse(EndTxn.make, 3, { transactionalId: "tx", producerId: 1, producerEpoch: 0, committed: true }, BOB)
      assert.strictEqual(ended.errorCode, 53)
      assert.strictEqual(produceCode(yield* produce("orders-eu", BOB, "tx")), 53)
      const partitions = yield* callResponse(DescribeTopicPartitions.make, 0, { topics: [], responsePartitionLimit: 2000, cursor: null }, BOB)
      assert.deepStrictEqual(partitions.topics, [])
      const namedPartitions = yield* callResponse(DescribeTopicPartitions.make, 0, { topics: [{ name: "payments" }], responsePartitionLimit: 2000, cursor: null }, BOB)
      assert.deepStrictEqual(namedPartitions.topics.map((t) => t.errorCode), [29])
      const offsetDelete = yield* callResponse(OffsetDelete.make, 0, { groupId: "g", topics: [{ name: "payments", partitions: [{ partitionIndex: 0 }] }] }, BOB)
      assert.strictEqual(offsetDelete.errorCode, 30)
      assert.strictEqual((yield* callResponse(ListPartitionReassignments.make, 0, { timeoutMs: 1000, topics: null }, BOB)).errorCode, 31)
      // Super users pass every check.
      assert.strictEqual(produceCode(yield* produce("orders-eu", ADMIN)), ErrorCode.NONE)
    }).pipe(Effect.provide(secured(MemoryFileSystem.make(), { topics }))))

  it.effect("group, transaction and admin APIs refuse with their codes", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* callResponse(SyncGroup.make, 3, { groupId: "g", generationId: 1, memberId: "m", groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }, BOB)).errorCode, 30)
      assert.strictEqual((yield* callResponse(Heartbeat.make, 3, { groupId: "g", generationId: 1, memberId: "m", groupInstanceId: null }, BOB)).errorCode, 30)
      assert.strictEqual((yield* callResponse(LeaveGroup.make, 3, { groupId: "g", memberId: "", members: [{ memberId: "m", groupInstanceId: null, reason: null }] }, BOB)).errorCode, 30)
      const added = yield* callResponse(AddPartitionsToTxn.make, 3, {
        transactions: [],
        v3AndBelowTransactionalId: "tx",
        v3AndBelowProducerId: 1,
        v3AndBelowProducerEpoch: 0,
        v3AndBelowTopics: [{ name: "payments", partitions: [0] }]
      }, BOB)
      assert.strictEqual(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode, 53)
      assert.strictEqual((yield* callResponse(AddOffsetsToTxn.make, 3, { transactionalId: "tx", producerId: 1, producerEpoch: 0, groupId: "g" }, BOB)).errorCode, 53)
      const txnCommit = yield* callResponse(TxnOffsetCommit.make, 3, {
        transactionalId: "tx",
        groupId: "g",
        producerId: 1,
        producerEpoch: 0,
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        topics: [{ name: "payments", partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: null }] }]
      }, BOB)
      assert.strictEqual(txnCommit.topics[0]!.partitions[0]!.errorCode, 53)
      const deletedRecords = yield* callResponse(DeleteRecords.make, 2, { topics: [{ name: "payments", partitions: [{ partitionIndex: 0, offset: 0 }] }], timeoutMs: 1000 }, BOB)
      assert.strictEqual(deletedRecords.topics[0]!.partitions[0]!.errorCode, 29)
      const partitions = yield* callResponse(CreatePartitions.make, 3, { topics: [{ name: "payments", count: 2, assignments: null }], timeoutMs: 1000, validateOnly: true }, BOB)
      assert.strictEqual(partitions.results[0]!.errorCode, 29)
      const altered = yield* callResponse(IncrementalAlterConfigs.make, 1, {
        resources: [
          { resourceType: 2, resourceName: "payments", configs: [{ name: "retention.ms", configOperation: 0, value: "1000" }] },
          { resourceType: 4, resourceName: "", configs: [{ name: "log.retention.ms", configOperation: 0, value: "1000" }] }
        ],
        validateOnly: true
      }, BOB)
      assert.deepStrictEqual(altered.responses.map((r) => r.errorCode), [29, 31])
      assert.strictEqual((yield* callResponse(DescribeLogDirs.make, 4, { topics: null }, BOB)).errorCode, 31)
      assert.strictEqual((yield* callResponse(DescribeClientQuotas.make, 1, { components: [], strict: false }, BOB)).errorCode, 31)
      assert.strictEqual((yield* callResponse(ElectLeaders.make, 2, { electionType: 0, topicPartitions: null, timeoutMs: 1000 }, BOB)).errorCode, 31)
      // A super user gets past every one of these checks.
      const adminAltered = yield* callResponse(IncrementalAlterConfigs.make, 1, {
        resources: [{ resourceType: 2, resourceName: "payments", configs: [{ name: "retention.ms", configOperation: 0, value: "1000" }] }],
        validateOnly: true
      }, ADMIN)
      assert.deepStrictEqual(adminAltered.responses.map((r) => r.errorCode), [0])
    }).pipe(Effect.provide(secured(MemoryFileSystem.make(), { topics }))))

  it.effect("SCRAM credential APIs and DescribeQuorum need the cluster (31); authorized operations tell what ACLs allow", () =>
    Effect.gen(function*() {
      const upsertion = { name: "carol", mechanism: 1, iterations: 4096, salt: new Uint8Array(8), saltedPassword: new Uint8Array(32) }
      const altered = yield* callResponse(AlterUserScramCredentials.make, 0, { deletions: [], upsertions: [upsertion] }, BOB)
      assert.deepStrictEqual(altered.results.map((r) => [r.user, r.errorCode]), [["carol", 31]])
      const described = yield* callResponse(DescribeUserScramCredentials.make, 0, { users: [{ name: "carol" }] }, BOB)
      assert.deepStrictEqual([described.errorCode, described.results.map((r) => r.errorCode)], [31, [31]])
      const quorum = yield* callResponse(DescribeQuorum.make, 2, { topics: [{ topicName: "__cluster_metadata", partitions: [{ partitionIndex: 0 }] }] }, BOB)
      assert.deepStrictEqual([quorum.errorCode, quorum.topics], [31, []])
      // The super user does all three.
      assert.deepStrictEqual((yield* callResponse(AlterUserScramCredentials.make, 0, { deletions: [], upsertions: [upsertion] }, ADMIN)).results.map((r) => r.errorCode), [0])
      assert.strictEqual((yield* callResponse(DescribeUserScramCredentials.make, 0, { users: [{ name: "carol" }] }, ADMIN)).results[0]!.errorCode, 0)
      assert.strictEqual((yield* callResponse(DescribeQuorum.make, 2, { topics: [{ topicName: "__cluster_metadata", partitions: [{ partitionIndex: 0 }] }] }, ADMIN)).errorCode, 0)

      // Bob may DESCRIBE the cluster and READ topics starting "orders": that is all the operations fields tell him.
      yield* create([binding(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, Op.DESCRIBE), binding(ResourceType.TOPIC, "orders", PatternType.PREFIXED, Op.READ)])
      const bit = (...ops: Array<number>) => ops.reduce((b, op) => b | (1 << op), 0)
      const cluster = yield* callResponse(DescribeCluster.make, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 }, BOB)
      assert.strictEqual(cluster.clusterAuthorizedOperations, bit(Op.DESCRIBE))
      const meta = yield* callResponse(Metadata.make, 12, { topics: [{ topicId: ZERO_UUID, name: "orders-eu" }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: true }, BOB)
      // READ implies DESCRIBE.
      assert.strictEqual(meta.topics[0]!.topicAuthorizedOperations, bit(Op.READ, Op.DESCRIBE))
      const everything = yield* callResponse(DescribeCluster.make, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 }, ADMIN)
      assert.strictEqual(everything.clusterAuthorizedOperations, bit(Op.CREATE, Op.ALTER, Op.DESCRIBE, Op.CLUSTER_ACTION, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS, Op.IDEMPOTENT_WRITE))
    }).pipe(Effect.provide(secured(MemoryFileSystem.make(), { topics }))))

  it.effect("granted prefixed WRITE and READ it works; revoked, it is refused again", () =>
    Effect.gen(function*() {
      yield* create([
        binding(ResourceType.TOPIC, "orders-", PatternType.PREFIXED, Op.WRITE),
        binding(ResourceType.TOPIC, "orders-", PatternType.PREFIXED, Op.READ),
        binding(ResourceType.GROUP, "app-", PatternType.PREFIXED, Op.READ)
      ])
      assert.strictEqual(produceCode(yield* produce("orders-eu")), ErrorCode.NONE)
      assert.strictEqual(produceCode(yield* produce("orders-us")), ErrorCode.NONE)
      assert.strictEqual(produceCode(yield* produce("payments")), 29)
      assert.strictEqual(fetchCode(yield* fetch("orders-eu")), ErrorCode.NONE)
      assert.strictEqual(fetchCode(yield* fetch("payments")), 29)
      // READ/WRITE imply DESCRIBE: Metadata lists the orders topics only.
      assert.deepStrictEqual((yield* metadata(null)).topics.map((t) => t.name), ["orders-eu", "orders-us"])
      assert.deepStrictEqual((yield* commit("app-1", "orders-eu")).topics[0]!.partitions.map((p) => p.errorCode), [0])
      assert.deepStrictEqual((yield* commit("app-1", "payments")).topics[0]!.partitions.map((p) => p.errorCode), [29])
      assert.deepStrictEqual((yield* commit("other", "orders-eu")).topics[0]!.partitions.map((p) => p.errorCode), [30])
      // WRITE on some topic lets an idempotent producer in (Kafka 3.x+).
      const idempotent = yield* callResponse(InitProducerId.make, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }, BOB)
      assert.strictEqual(idempotent.errorCode, ErrorCode.NONE)
      // Auto-creation needs CREATE: denied without it, allowed with CREATE on the prefix.
      assert.deepStrictEqual((yield* metadata(["orders-new"], BOB, true)).topics.map((t) => t.errorCode), [29])
      yield* create([binding(ResourceType.TOPIC, "orders-", PatternType.PREFIXED, Op.CREATE)])
      assert.deepStrictEqual((yield* metadata(["orders-new"], BOB, true)).topics.map((t) => t.errorCode), [0])

      // A DENY wins over the prefixed ALLOW.
      yield* create([binding(ResourceType.TOPIC, "orders-us", PatternType.LITERAL, Op.WRITE, "User:bob", PermissionType.DENY)])
      assert.strictEqual(produceCode(yield* produce("orders-us")), 29)
      assert.strictEqual(produceCode(yield* produce("orders-eu")), ErrorCode.NONE)

      const deleted = yield* deleteAcls([{ resourceTypeFilter: ResourceType.TOPIC, resourceNameFilter: "orders-", patternTypeFilter: PatternType.PREFIXED, operation: Op.WRITE }])
      assert.strictEqual(deleted.filterResults[0]!.matchingAcls.length, 1)
      assert.strictEqual(produceCode(yield* produce("orders-eu")), 29)
      assert.strictEqual(fetchCode(yield* fetch("orders-eu")), ErrorCode.NONE)
    }).pipe(Effect.provide(secured(MemoryFileSystem.make(), { topics }))))

  it.effect("allow.everyone.if.no.acl.found opens resources no ACL names", () =>
    Effect.gen(function*() {
      assert.strictEqual(produceCode(yield* produce("payments")), ErrorCode.NONE)
      yield* create([binding(ResourceType.TOPIC, "payments", PatternType.LITERAL, Op.WRITE, "User:alice")])
      assert.strictEqual(produceCode(yield* produce("payments")), 29)
      assert.strictEqual(produceCode(yield* produce("orders-eu")), ErrorCode.NONE)
    }).pipe(Effect.provide(secured(MemoryFileSystem.make(), { topics, properties: { "allow.everyone.if.no.acl.found": "true" } }))))
})
