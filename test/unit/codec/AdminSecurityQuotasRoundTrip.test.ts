// Round trips of the ACL, SCRAM, client quota, quorum and feature APIs at every version, as RoundTrip.test.ts
// does for the others: each message built once from Apache Kafka's JSON specs, "full" (every field set, even
// where the version lacks it: the encoder must leave it out) and "as decoded" (fields the version lacks at their
// defaults), once with values and once with null wherever the version allows it; every proper prefix of the
// bytes is refused. Also the ClientQuotaRecord of the metadata log.
import { assert, describe, it } from "@effect/vitest"
import { ZERO_UUID } from "../../../src/protocol/Bytes.ts"
import {
  encodeToBytes,
  type RequestOf,
  responseCodec,
  type ResponseOf
} from "../../../src/protocol/Message.ts"
import { AlterClientQuotas } from "../../../src/protocol/messages/AlterClientQuotas.ts"
import { CreateAcls } from "../../../src/protocol/messages/CreateAcls.ts"
import { DeleteAcls } from "../../../src/protocol/messages/DeleteAcls.ts"
import { DescribeAcls } from "../../../src/protocol/messages/DescribeAcls.ts"
import { DescribeClientQuotas } from "../../../src/protocol/messages/DescribeClientQuotas.ts"
import { DescribeQuorum } from "../../../src/protocol/messages/DescribeQuorum.ts"
import { DescribeUserScramCredentials } from "../../../src/protocol/messages/DescribeUserScramCredentials.ts"
import { UpdateFeatures } from "../../../src/protocol/messages/UpdateFeatures.ts"
import { decodeMetadataRecord, encodeMetadataRecord } from "../../../src/protocol/MetadataRecords.ts"
import { type Case, type Mode, roundTrips, testCase } from "./Cases.ts"
import { hex, show } from "./hex.ts"

const U1 = "01234567-89ab-cdef-0123-456789abcdef"

const describeAcls = testCase({
  api: DescribeAcls,
  request: (m): RequestOf<typeof DescribeAcls> => ({
    resourceTypeFilter: 2,
    resourceNameFilter: m.orNull("0+", "orders"),
    patternTypeFilter: m.at("1+", 4, 3),
    principalFilter: m.orNull("0+", "User:alice"),
    hostFilter: m.orNull("0+", "*"),
    operation: 3,
    permissionType: 3
  }),
  response: (m): ResponseOf<typeof DescribeAcls> => ({
    throttleTimeMs: 12,
    errorCode: 54,
    errorMessage: m.orNull("0+", "No Authorizer is configured on the broker"),
    resources: [{
      resourceType: 2,
      resourceName: "orders",
      patternType: m.at("1+", 4, 3),
      acls: [{ principal: "User:alice", host: "*", operation: 3, permissionType: 3 }, { principal: "User:bob", host: "10.0.0.1", operation: 2, permissionType: 2 }]
    }, { resourceType: 4, resourceName: "kafka-cluster", patternType: 3, acls: [] }]
  })
})

const createAcls = testCase({
  api: CreateAcls,
  request: (m): RequestOf<typeof CreateAcls> => ({
    creations: [{
      resourceType: 3,
      resourceName: "group-é",
      resourcePatternType: m.at("1+", 4, 3),
      principal: "User:alice",
      host: "*",
      operation: 3,
      permissionType: 3
    }]
  }),
  response: (m): ResponseOf<typeof CreateAcls> => ({
    throttleTimeMs: 0,
    results: [{ errorCode: 54, errorMessage: m.orNull("0+", "No Authorizer is configured.") }, { errorCode: 0, errorMessage: null }]
  })
})

const deleteAcls = testCase({
  api: DeleteAcls,
  request: (m): RequestOf<typeof DeleteAcls> => ({
    filters: [{
      resourceTypeFilter: 1,
      resourceNameFilter: m.orNull("0+", "t"),
      patternTypeFilter: m.at("1+", 1, 3),
      principalFilter: m.orNull("0+", "User:*"),
      hostFilter: m.orNull("0+", "*"),
      operation: 1,
      permissionType: 1
    }]
  }),
  response: (m): ResponseOf<typeof DeleteAcls> => ({
    throttleTimeMs: 7,
    filterResults: [{
      errorCode: 0,
      errorMessage: m.orNull("0+", "ok"),
      matchingAcls: [{
        errorCode: 0,
        errorMessage: m.orNull("0+", "gone"),
        resourceType: 2,
        resourceName: "orders",
        patternType: m.at("1+", 4, 3),
        principal: "User:alice",
        host: "*",
        operation: 3,
        permissionType: 3
      }]
    }, { errorCode: 54, errorMessage: "No Authorizer is configured.", matchingAcls: [] }]
  })
})

const describeUserScramCredentials = testCase({
  api: DescribeUserScramCredentials,
  request: (m): RequestOf<typeof DescribeUserScramCredentials> => ({
    users: m.orNull("0+", [{ name: "alice" }, { name: "bob" }])
  }),
  response: (m): ResponseOf<typeof DescribeUserScramCredentials> => ({
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: m.orNull("0+", "fine"),
    results: [
      { user: "alice", errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 4096 }, { mechanism: 2, iterations: 8192 }] },
      { user: "bob", errorCode: 91, errorMessage: m.orNull("0+", "Attempt to describe a user credential that does not exist: bob"), credentialInfos: [] }
    ]
  })
})

const describeClientQuotas = testCase({
  api: DescribeClientQuotas,
  request: (m): RequestOf<typeof DescribeClientQuotas> => ({
    components: [{ entityType: "user", matchType: 0, match: "alice" }, { entityType: "client-id", matchType: 1, match: m.orNull("0+", "x") }],
    strict: true
  }),
  response: (m): ResponseOf<typeof DescribeClientQuotas> => ({
    throttleTimeMs: 3,
    errorCode: 0,
    errorMessage: m.orNull("0+", "none"),
    entries: m.orNull("0+", [{
      entity: [{ entityType: "client-id", entityName: m.orNull("0+", "app") }, { entityType: "user", entityName: "alice" }],
      values: [{ key: "producer_byte_rate", value: 1048576 }, { key: "request_percentage", value: 12.5 }]
    }])
  })
})

const alterClientQuotas = testCase({
  api: AlterClientQuotas,
  request: (m): RequestOf<typeof AlterClientQuotas> => ({
    entries: [{
      entity: [{ entityType: "user", entityName: m.orNull("0+", "alice") }],
      ops: [{ key: "consumer_byte_rate", value: 2e6, remove: false }, { key: "producer_byte_rate", value: 0, remove: true }]
    }],
    validateOnly: true
  }),
  response: (m): ResponseOf<typeof AlterClientQuotas> => ({
    throttleTimeMs: 0,
    entries: [{
      errorCode: 42,
      errorMessage: m.orNull("0+", "Invalid configuration key x"),
      entity: [{ entityType: "ip", entityName: m.orNull("0+", "10.1.2.3") }]
    }]
  })
})

const replica = (m: Mode, id: number) => ({
  replicaId: id,
  replicaDirectoryId: m.at("2+", U1, ZERO_UUID),
  logEndOffset: 2 ** 35 + id,
  lastFetchTimestamp: m.at("1+", 1_700_000_000_000, -1),
  lastCaughtUpTimestamp: m.at("1+", 1_700_000_000_001, -1)
})

const describeQuorum = testCase({
  api: DescribeQuorum,
  request: (): RequestOf<typeof DescribeQuorum> => ({
    topics: [{ topicName: "__cluster_metadata", partitions: [{ partitionIndex: 0 }, { partitionIndex: 1 }] }]
  }),
  response: (m): ResponseOf<typeof DescribeQuorum> => ({
    errorCode: 0,
    errorMessage: m.at("2+", m.orNull("2+", "top"), null),
    topics: [{
      topicName: "__cluster_metadata",
      partitions: [{
        partitionIndex: 0,
        errorCode: 0,
        errorMessage: m.at("2+", m.orNull("2+", "partition"), null),
        leaderId: 1,
        leaderEpoch: 7,
        highWatermark: 2 ** 35,
        currentVoters: [replica(m, 1), replica(m, 2)],
        observers: [replica(m, 3)]
      }]
    }],
    nodes: m.at("2+", [{ nodeId: 1, listeners: [{ name: "PLAINTEXT", host: "localhost", port: 65535 }] }], [])
  })
})

const updateFeatures = testCase({
  api: UpdateFeatures,
  request: (m): RequestOf<typeof UpdateFeatures> => ({
    timeoutMs: 30_000,
    featureUpdates: [
      { feature: "metadata.version", maxVersionLevel: 23, allowDowngrade: m.at("0", true, false), upgradeType: m.at("1+", 2, 1) },
      { feature: "transaction.version", maxVersionLevel: 1, allowDowngrade: false, upgradeType: 1 }
    ],
    validateOnly: m.at("1+", true, false)
  }),
  response: (m): ResponseOf<typeof UpdateFeatures> => ({
    throttleTimeMs: 0,
    errorCode: 95,
    errorMessage: m.orNull("0+", "The update failed"),
    results: m.at("0-1", [{ feature: "metadata.version", errorCode: 0, errorMessage: m.orNull("0+", "fine") }], [])
  })
})

const cases: ReadonlyArray<Case<any, any>> = [
  describeAcls,
  createAcls,
  deleteAcls,
  describeUserScramCredentials,
  describeClientQuotas,
  alterClientQuotas,
  describeQuorum,
  updateFeatures
]

roundTrips(cases)

describe("Golden bytes", () => {
  it("DescribeAcls v1 response: SECURITY_DISABLED with its message, no resources", () => {
    const bytes = encodeToBytes(responseCodec(DescribeAcls, 1), {
      throttleTimeMs: 0,
      errorCode: 54,
      errorMessage: "x",
      resources: []
    })
    assert.strictEqual(show(bytes), show(hex("00 00 00 00", "00 36", "00 01 78", "00 00 00 00")))
  })

  it("DescribeClientQuotas v0 response: a null entries array is -1", () => {
    const bytes = encodeToBytes(responseCodec(DescribeClientQuotas, 0), { throttleTimeMs: 0, errorCode: 35, errorMessage: null, entries: null })
    assert.strictEqual(show(bytes), show(hex("00 00 00 00", "00 23", "ff ff", "ff ff ff ff")))
  })

  it("UpdateFeatures v2 response has no results, v1 does", () => {
    const value = { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results: [{ feature: "f", errorCode: 0, errorMessage: null }] }
    assert.strictEqual(show(encodeToBytes(responseCodec(UpdateFeatures, 2), value)), show(hex("00 00 00 00", "00 00", "00", "00")))
    assert.strictEqual(
      show(encodeToBytes(responseCodec(UpdateFeatures, 1), value)),
      show(hex("00 00 00 00", "00 00", "00", "02", "02 66", "00 00", "00", "00", "00"))
    )
  })
})

describe("ClientQuotaRecord", () => {
  it("round-trips as metadata record type 14 version 0, default entities as null names", () => {
    const record = {
      type: "ClientQuota" as const,
      entity: [{ entityType: "client-id", entityName: null }, { entityType: "user", entityName: "alice" }],
      key: "producer_byte_rate",
      value: 1024,
      remove: false
    }
    const bytes = encodeMetadataRecord(record)
    assert.strictEqual(show(bytes.subarray(0, 3)), show(hex("01 0e 00")))
    assert.deepStrictEqual(decodeMetadataRecord(bytes), { ...record, version: 0 })
    const removal = { ...record, entity: [{ entityType: "ip", entityName: "10.0.0.1" }], key: "connection_creation_rate", value: 0, remove: true }
    assert.deepStrictEqual(decodeMetadataRecord(encodeMetadataRecord(removal)), { ...removal, version: 0 })
  })
})
