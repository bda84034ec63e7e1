// Round trips of the core APIs at every supported version, through the harness of Cases.ts (values and nulls,
// truncations refused), and the codec's handling of unknown tagged fields, nulls and malformed input.
import { assert, describe, it } from "@effect/vitest"
import { MalformedInput, ZERO_UUID } from "../../../src/protocol/Bytes.ts"
import {
  decodeFromBytes,
  encodeToBytes,
  requestCodec,
  type RequestOf,
  responseCodec,
  type ResponseOf
} from "../../../src/protocol/Message.ts"
import { AddOffsetsToTxn } from "../../../src/protocol/messages/AddOffsetsToTxn.ts"
import { AddPartitionsToTxn } from "../../../src/protocol/messages/AddPartitionsToTxn.ts"
import { AlterConfigs } from "../../../src/protocol/messages/AlterConfigs.ts"
import { ApiVersions } from "../../../src/protocol/messages/ApiVersions.ts"
import { ConsumerGroupDescribe } from "../../../src/protocol/messages/ConsumerGroupDescribe.ts"
import { ConsumerGroupHeartbeat } from "../../../src/protocol/messages/ConsumerGroupHeartbeat.ts"
import { DescribeProducers } from "../../../src/protocol/messages/DescribeProducers.ts"
import { DescribeTopicPartitions } from "../../../src/protocol/messages/DescribeTopicPartitions.ts"
import { DescribeTransactions } from "../../../src/protocol/messages/DescribeTransactions.ts"
import { EndTxn } from "../../../src/protocol/messages/EndTxn.ts"
import { Fetch } from "../../../src/protocol/messages/Fetch.ts"
import { IncrementalAlterConfigs } from "../../../src/protocol/messages/IncrementalAlterConfigs.ts"
import { ListOffsets } from "../../../src/protocol/messages/ListOffsets.ts"
import { ListTransactions } from "../../../src/protocol/messages/ListTransactions.ts"
import { Metadata } from "../../../src/protocol/messages/Metadata.ts"
import { Produce } from "../../../src/protocol/messages/Produce.ts"
import { TxnOffsetCommit } from "../../../src/protocol/messages/TxnOffsetCommit.ts"
import { WriteTxnMarkers } from "../../../src/protocol/messages/WriteTxnMarkers.ts"
import { type Case, roundTrips, testCase } from "./Cases.ts"
import { hex, show } from "./hex.ts"

const U1 = "01234567-89ab-cdef-0123-456789abcdef"
const U2 = "fedcba98-7654-3210-fedc-ba9876543210"
const NO_OPS = -2147483648

// Opaque record-batch stand-ins: the codec carries records as bytes and never looks inside.
const BATCH_A = hex("00*8 00 00 00 1c ff ff ff ff 02 de ad be ef 01 02 03 04 05 06 07 08 09 0a")
const BATCH_B = hex("7f 80 81 fe")

// ---------------------------------------------------------------------------------------------------------
// Builders, one per API, written from the JSON specs

const produce = testCase({
  api: Produce,
  request: (m): RequestOf<typeof Produce> => ({
    transactionalId: m.at("3+", m.orNull("3+", "txn-é"), null),
    acks: -1,
    timeoutMs: 30_000,
    topicData: [
      {
        name: "orders",
        partitionData: [{ index: 0, records: BATCH_A }, { index: 5, records: m.orNull("0+", BATCH_B) }]
      },
      { name: "unused", partitionData: [] }
    ]
  }),
  response: (m): ResponseOf<typeof Produce> => ({
    responses: [{
      name: "orders",
      partitionResponses: [
        {
          index: 5,
          errorCode: 87,
          baseOffset: 2 ** 40 + 7,
          logAppendTimeMs: m.at("2+", 1_700_000_000_123, -1),
          logStartOffset: m.at("5+", 12, -1),
          recordErrors: m.at("8+", [
            { batchIndex: 3, batchIndexErrorMessage: m.orNull("8+", "bad crc") },
            { batchIndex: 9, batchIndexErrorMessage: "too large" }
          ], []),
          errorMessage: m.at("8+", m.orNull("8+", "rejected"), null),
          currentLeader: m.at("10+", { leaderId: 2, leaderEpoch: 11 }, { leaderId: -1, leaderEpoch: -1 })
        },
        {
          index: 6,
          errorCode: 0,
          baseOffset: 0,
          logAppendTimeMs: -1,
          logStartOffset: m.at("5+", 0, -1),
          recordErrors: [],
          errorMessage: null,
          currentLeader: { leaderId: -1, leaderEpoch: -1 }
        }
      ]
    }],
    throttleTimeMs: m.at("1+", 40, 0),
    nodeEndpoints: m.at("10+", [
      { nodeId: 2, host: "broker-2.local", port: 9093, rack: m.orNull("10+", "rack-b") },
      { nodeId: 3, host: "broker-3.local", port: 65535, rack: "rack-c" }
    ], [])
  })
})

const fetch = testCase({
  api: Fetch,
  request: (m): RequestOf<typeof Fetch> => ({
    clusterId: m.at("12+", m.orNull("12+", "cluster-x"), null),
    replicaId: m.at("0-14", 7, -1),
    replicaState: m.at("15+", { replicaId: 7, replicaEpoch: 2 ** 33 }, { replicaId: -1, replicaEpoch: -1 }),
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: m.at("3+", 1 << 20, 0x7fffffff),
    isolationLevel: m.at("4+", 1, 0),
    sessionId: m.at("7+", 99, 0),
    sessionEpoch: m.at("7+", 4, -1),
    topics: [{
      topic: m.at("0-12", "orders", ""),
      topicId: m.at("13+", U1, ZERO_UUID),
      partitions: [
        {
          partition: 2,
          currentLeaderEpoch: m.at("9+", 6, -1),
          fetchOffset: 2 ** 35,
          lastFetchedEpoch: m.at("12+", 5, -1),
          logStartOffset: m.at("5+", 3, -1),
          partitionMaxBytes: 65536,
          replicaDirectoryId: m.at("17+", U2, ZERO_UUID)
        },
        {
          partition: 3,
          currentLeaderEpoch: -1,
          fetchOffset: 0,
          lastFetchedEpoch: -1,
          logStartOffset: -1,
          partitionMaxBytes: 1,
          replicaDirectoryId: ZERO_UUID
        }
      ]
    }],
    forgottenTopicsData: m.at("7+", [{
      topic: m.at("7-12", "old", ""),
      topicId: m.at("13+", U2, ZERO_UUID),
      partitions: [1, 2, 3]
    }], []),
    rackId: m.at("11+", "rack-a", "")
  }),
  response: (m): ResponseOf<typeof Fetch> => ({
    throttleTimeMs: m.at("1+", 25, 0),
    errorCode: m.at("7+", 70, 0),
    sessionId: m.at("7+", 1234, 0),
    responses: [{
      topic: m.at("0-12", "orders", ""),
      topicId: m.at("13+", U1, ZERO_UUID),
      partitions: [
        {
          partitionIndex: 2,
          errorCode: 0,
          highWatermark: 2 ** 40,
          lastStableOffset: m.at("4+", 2 ** 40 - 3, -1),
          logStartOffset: m.at("5+", 17, -1),
          divergingEpoch: m.at("12+", { epoch: 3, endOffset: 900 }, { epoch: -1, endOffset: -1 }),
          currentLeader: m.at("12+", { leaderId: 1, leaderEpoch: 8 }, { leaderId: -1, leaderEpoch: -1 }),
          snapshotId: m.at("12+", { endOffset: 1000, epoch: 2 }, { endOffset: -1, epoch: -1 }),
          abortedTransactions: m.at("4+", m.orNull("4+", [
            { producerId: 2 ** 45, firstOffset: 77 },
            { producerId: 5, firstOffset: 0 }
          ]), []),
          preferredReadReplica: m.at("11+", 3, -1),
          records: m.orNull("0+", BATCH_A)
        },
        {
          partitionIndex: 9,
          errorCode: 1,
          highWatermark: -1,
          lastStableOffset: -1,
          logStartOffset: -1,
          divergingEpoch: { epoch: -1, endOffset: -1 },
          currentLeader: m.at("12+", { leaderId: 4, leaderEpoch: 0 }, { leaderId: -1, leaderEpoch: -1 }),
          snapshotId: { endOffset: -1, epoch: -1 },
          abortedTransactions: [],
          preferredReadReplica: -1,
          records: BATCH_B
        }
      ]
    }],
    nodeEndpoints: m.at("16+", [
      { nodeId: 1, host: "b1", port: 9092, rack: m.orNull("16+", "r") },
      { nodeId: 4, host: "b4", port: 9094, rack: "s" }
    ], [])
  })
})

const listOffsets = testCase({
  api: ListOffsets,
  request: (m): RequestOf<typeof ListOffsets> => ({
    replicaId: 1,
    isolationLevel: m.at("2+", 1, 0),
    topics: [{
      name: "orders",
      partitions: [
        { partitionIndex: 0, currentLeaderEpoch: m.at("4+", 3, -1), timestamp: -2, maxNumOffsets: m.at("0", 9, 1) },
        { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: 1_700_000_000_000, maxNumOffsets: 1 }
      ]
    }],
    timeoutMs: m.at("10+", 30_000, 0)
  }),
  response: (m): ResponseOf<typeof ListOffsets> => ({
    throttleTimeMs: m.at("2+", 12, 0),
    topics: [{
      name: "orders",
      partitions: [
        {
          partitionIndex: 0,
          errorCode: 0,
          oldStyleOffsets: m.at("0", [2 ** 40, 0], []),
          timestamp: m.at("1+", 1_700_000_000_000, -1),
          offset: m.at("1+", 2 ** 40, -1),
          leaderEpoch: m.at("4+", 6, -1)
        },
        { partitionIndex: 1, errorCode: 3, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 }
      ]
    }]
  })
})

const metadata = testCase({
  api: Metadata,
  request: (m): RequestOf<typeof Metadata> => ({
    // The nulls pass asks for all topics (null) in v1-9 and names one topic by id only (null name) in v10+.
    topics: m.orNull("1-9", [
      { topicId: m.at("10+", U1, ZERO_UUID), name: m.orNull("10+", "orders") },
      { topicId: m.at("10+", U2, ZERO_UUID), name: "payments" }
    ]),
    allowAutoTopicCreation: m.at("4+", false, true),
    includeClusterAuthorizedOperations: m.at("8-10", true, false),
    includeTopicAuthorizedOperations: m.at("8+", true, false)
  }),
  response: (m): ResponseOf<typeof Metadata> => ({
    throttleTimeMs: m.at("3+", 9, 0),
    brokers: [
      { nodeId: 1, host: "b1.example", port: 9092, rack: m.at("1+", m.orNull("1+", "rack-1"), null) },
      { nodeId: 2, host: "b2.example", port: 19092, rack: m.at("1+", "rack-2", null) }
    ],
    clusterId: m.at("2+", m.orNull("2+", "cluster-abc"), null),
    controllerId: m.at("1+", 2, -1),
    topics: [
      {
        errorCode: 0,
        name: m.orNull("12+", "orders"),
        topicId: m.at("10+", U1, ZERO_UUID),
        isInternal: m.at("1+", true, false),
        partitions: [
          {
            errorCode: 9,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: m.at("7+", 14, -1),
            replicaNodes: [1, 2, 3],
            isrNodes: [1, 2],
            offlineReplicas: m.at("5+", [3], [])
          },
          {
            errorCode: 0,
            partitionIndex: 1,
            leaderId: 2,
            leaderEpoch: m.at("7+", 0, -1),
            replicaNodes: [],
            isrNodes: [],
            offlineReplicas: []
          }
        ],
        topicAuthorizedOperations: m.at("8+", 0x0df8, NO_OPS)
      },
      { errorCode: 3, name: "missing", topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: NO_OPS }
    ],
    clusterAuthorizedOperations: m.at("8-10", 0x0ff0, NO_OPS)
  })
})

const apiVersions = testCase({
  api: ApiVersions,
  request: (m): RequestOf<typeof ApiVersions> => ({
    clientSoftwareName: m.at("3+", "apache-kafka-java", ""),
    clientSoftwareVersion: m.at("3+", "3.9.0", "")
  }),
  response: (m): ResponseOf<typeof ApiVersions> => ({
    errorCode: 35,
    apiKeys: [
      { apiKey: 0, minVersion: 3, maxVersion: 11 },
      { apiKey: 1, minVersion: 4, maxVersion: 16 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 }
    ],
    throttleTimeMs: m.at("1+", 5, 0),
    supportedFeatures: m.at("3+", [
      { name: "metadata.version", minVersion: 1, maxVersion: 21 },
      { name: "kraft.version", minVersion: 0, maxVersion: 1 }
    ], []),
    finalizedFeaturesEpoch: m.at("3+", 2 ** 36, -1),
    finalizedFeatures: m.at("3+", [{ name: "metadata.version", maxVersionLevel: 21, minVersionLevel: 21 }], []),
    zkMigrationReady: m.at("3+", true, false)
  })
})

const describeTopicPartitions = testCase({
  api: DescribeTopicPartitions,
  request: (m): RequestOf<typeof DescribeTopicPartitions> => ({
    topics: [{ name: "orders" }, { name: "payments" }],
    responsePartitionLimit: 50,
    cursor: m.orNull("0+", { topicName: "orders", partitionIndex: 7 })
  }),
  response: (m): ResponseOf<typeof DescribeTopicPartitions> => ({
    throttleTimeMs: 8,
    topics: [
      {
        errorCode: 0,
        name: "orders",
        topicId: U1,
        isInternal: true,
        partitions: [{
          errorCode: 0,
          partitionIndex: 7,
          leaderId: 1,
          leaderEpoch: 3,
          replicaNodes: [1, 2, 3],
          isrNodes: [1, 2],
          eligibleLeaderReplicas: m.orNull("0+", [3]),
          lastKnownElr: m.orNull("0+", [2]),
          offlineReplicas: [3]
        }],
        topicAuthorizedOperations: 0x0df8
      },
      {
        errorCode: 100,
        name: m.orNull("0+", "gone"),
        topicId: U2,
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations: NO_OPS
      }
    ],
    nextCursor: m.orNull("0+", { topicName: "orders", partitionIndex: 8 })
  })
})

const addPartitionsToTxn = testCase({
  api: AddPartitionsToTxn,
  request: (m): RequestOf<typeof AddPartitionsToTxn> => ({
    transactions: m.at("4+", [
      {
        transactionalId: "txn-é",
        producerId: 2 ** 40 + 1,
        producerEpoch: 3,
        verifyOnly: true,
        topics: [{ name: "orders", partitions: [0, 2] }, { name: "empty", partitions: [] }]
      },
      { transactionalId: "txn-b", producerId: 7, producerEpoch: 0, verifyOnly: false, topics: [] }
    ], []),
    v3AndBelowTransactionalId: m.at("0-3", "txn-é", ""),
    v3AndBelowProducerId: m.at("0-3", 2 ** 40 + 1, 0),
    v3AndBelowProducerEpoch: m.at("0-3", 3, 0),
    v3AndBelowTopics: m.at("0-3", [{ name: "orders", partitions: [0, 2] }, { name: "empty", partitions: [] }], [])
  }),
  response: (m): ResponseOf<typeof AddPartitionsToTxn> => ({
    throttleTimeMs: 30,
    errorCode: m.at("4+", 51, 0),
    resultsByTransaction: m.at("4+", [
      {
        transactionalId: "txn-é",
        topicResults: [{
          name: "orders",
          resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 0 }, { partitionIndex: 2, partitionErrorCode: 48 }]
        }]
      },
      { transactionalId: "txn-b", topicResults: [] }
    ], []),
    resultsByTopicV3AndBelow: m.at("0-3", [
      { name: "orders", resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 0 }, { partitionIndex: 2, partitionErrorCode: 48 }] },
      { name: "empty", resultsByPartition: [] }
    ], [])
  })
})

const addOffsetsToTxn = testCase({
  api: AddOffsetsToTxn,
  request: (): RequestOf<typeof AddOffsetsToTxn> => ({
    transactionalId: "txn-é",
    producerId: 2 ** 33 + 9,
    producerEpoch: 9,
    groupId: "group-1"
  }),
  response: (): ResponseOf<typeof AddOffsetsToTxn> => ({
    throttleTimeMs: 5,
    errorCode: 49
  })
})

const txnOffsetCommit = testCase({
  api: TxnOffsetCommit,
  request: (m): RequestOf<typeof TxnOffsetCommit> => ({
    transactionalId: "txn-a",
    groupId: "group-1",
    producerId: 2 ** 41,
    producerEpoch: 2,
    generationId: m.at("3+", 12, -1),
    memberId: m.at("3+", "member-1", ""),
    groupInstanceId: m.at("3+", m.orNull("3+", "instance-1"), null),
    topics: [
      {
        name: "orders",
        partitions: [
          { partitionIndex: 0, committedOffset: 2 ** 40, committedLeaderEpoch: m.at("2+", 4, -1), committedMetadata: m.orNull("0+", "meta") },
          { partitionIndex: 1, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: "" }
        ]
      },
      { name: "empty", partitions: [] }
    ]
  }),
  response: (): ResponseOf<typeof TxnOffsetCommit> => ({
    throttleTimeMs: 17,
    topics: [
      { name: "orders", partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 47 }] },
      { name: "empty", partitions: [] }
    ]
  })
})

const endTxn = testCase({
  api: EndTxn,
  request: (): RequestOf<typeof EndTxn> => ({
    transactionalId: "txn-a",
    producerId: 2 ** 42 + 5,
    producerEpoch: 7,
    committed: true
  }),
  response: (m): ResponseOf<typeof EndTxn> => ({
    throttleTimeMs: 3,
    errorCode: 48,
    producerId: m.at("5+", 2 ** 42 + 5, -1),
    producerEpoch: m.at("5+", 8, -1)
  })
})

const writeTxnMarkers = testCase({
  api: WriteTxnMarkers,
  request: (): RequestOf<typeof WriteTxnMarkers> => ({
    markers: [
      {
        producerId: 2 ** 40 + 3,
        producerEpoch: 4,
        transactionResult: true,
        topics: [{ name: "orders", partitionIndexes: [0, 1] }, { name: "__consumer_offsets", partitionIndexes: [17] }],
        coordinatorEpoch: 6
      },
      { producerId: 9, producerEpoch: 0, transactionResult: false, topics: [], coordinatorEpoch: 0 }
    ]
  }),
  response: (): ResponseOf<typeof WriteTxnMarkers> => ({
    markers: [
      {
        producerId: 2 ** 40 + 3,
        topics: [{
          name: "orders",
          partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 6 }]
        }]
      },
      { producerId: 9, topics: [] }
    ]
  })
})

const describeTransactions = testCase({
  api: DescribeTransactions,
  request: (): RequestOf<typeof DescribeTransactions> => ({
    transactionalIds: ["txn-a", "txn-é"]
  }),
  response: (): ResponseOf<typeof DescribeTransactions> => ({
    throttleTimeMs: 11,
    transactionStates: [
      {
        errorCode: 0,
        transactionalId: "txn-a",
        transactionState: "Ongoing",
        transactionTimeoutMs: 60_000,
        transactionStartTimeMs: 1_700_000_000_000,
        producerId: 2 ** 40,
        producerEpoch: 1,
        topics: [{ topic: "orders", partitions: [0, 3] }, { topic: "empty", partitions: [] }]
      },
      {
        errorCode: 105,
        transactionalId: "txn-é",
        transactionState: "",
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1,
        producerId: -1,
        producerEpoch: -1,
        topics: []
      }
    ]
  })
})

const listTransactions = testCase({
  api: ListTransactions,
  request: (m): RequestOf<typeof ListTransactions> => ({
    stateFilters: ["Ongoing", "PrepareCommit"],
    producerIdFilters: [2 ** 40, 7],
    durationFilter: m.at("1+", 60_000, -1),
    transactionalIdPattern: m.at("2+", m.orNull("2+", "txn-.*"), null)
  }),
  response: (): ResponseOf<typeof ListTransactions> => ({
    throttleTimeMs: 4,
    errorCode: 0,
    unknownStateFilters: ["Bogus"],
    transactionStates: [
      { transactionalId: "txn-a", producerId: 2 ** 40, transactionState: "Ongoing" },
      { transactionalId: "txn-é", producerId: 7, transactionState: "CompleteCommit" }
    ]
  })
})

const describeProducers = testCase({
  api: DescribeProducers,
  request: (): RequestOf<typeof DescribeProducers> => ({
    topics: [{ name: "orders", partitionIndexes: [0, 1] }, { name: "empty", partitionIndexes: [] }]
  }),
  response: (m): ResponseOf<typeof DescribeProducers> => ({
    throttleTimeMs: 2,
    topics: [{
      name: "orders",
      partitions: [
        {
          partitionIndex: 0,
          errorCode: 0,
          errorMessage: m.orNull("0+", "none"),
          activeProducers: [
            {
              producerId: 2 ** 40,
              producerEpoch: 3,
              lastSequence: 41,
              lastTimestamp: 1_700_000_000_000,
              coordinatorEpoch: 2,
              currentTxnStartOffset: 1000
            },
            { producerId: 5, producerEpoch: 0, lastSequence: -1, lastTimestamp: -1, coordinatorEpoch: -1, currentTxnStartOffset: -1 }
          ]
        },
        { partitionIndex: 1, errorCode: 6, errorMessage: "not the leader", activeProducers: [] }
      ]
    }]
  })
})

const alterConfigs = testCase({
  api: AlterConfigs,
  request: (): RequestOf<typeof AlterConfigs> => ({
    resources: [
      { resourceType: 2, resourceName: "orders", configs: [{ name: "retention.ms", value: "60000" }, { name: "cleanup.policy", value: "compact,delete" }] },
      { resourceType: 4, resourceName: "", configs: [] }
    ],
    validateOnly: true
  }),
  response: (m): ResponseOf<typeof AlterConfigs> => ({
    throttleTimeMs: 3,
    responses: [
      { errorCode: 0, errorMessage: m.orNull("0+", "done"), resourceType: 2, resourceName: "orders" },
      { errorCode: 40, errorMessage: "Cannot update these configs dynamically: node.id", resourceType: 4, resourceName: "1" }
    ]
  })
})

const incrementalAlterConfigs = testCase({
  api: IncrementalAlterConfigs,
  request: (m): RequestOf<typeof IncrementalAlterConfigs> => ({
    resources: [{
      resourceType: 2,
      resourceName: "orders",
      configs: [
        { name: "cleanup.policy", configOperation: 2, value: "compact" },
        { name: "retention.ms", configOperation: 1, value: m.orNull("0+", "ignored") }
      ]
    }],
    validateOnly: false
  }),
  response: (m): ResponseOf<typeof IncrementalAlterConfigs> => ({
    throttleTimeMs: 0,
    responses: [{ errorCode: 0, errorMessage: m.orNull("0+", "ok"), resourceType: 2, resourceName: "orders" }]
  })
})

const consumerGroupHeartbeat = testCase({
  api: ConsumerGroupHeartbeat,
  request: (m): RequestOf<typeof ConsumerGroupHeartbeat> => ({
    groupId: "orders-app",
    memberId: "m-1",
    memberEpoch: 0,
    instanceId: m.orNull("0+", "instance-1"),
    rackId: m.orNull("0+", "rack-a"),
    rebalanceTimeoutMs: 30_000,
    subscribedTopicNames: m.orNull("0+", ["orders", "é"]),
    subscribedTopicRegex: m.at("1+", m.orNull("1+", "orders-.*"), null),
    serverAssignor: m.orNull("0+", "uniform"),
    topicPartitions: m.orNull("0+", [{ topicId: U1, partitions: [0, 2] }])
  }),
  response: (m): ResponseOf<typeof ConsumerGroupHeartbeat> => ({
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: m.orNull("0+", "none"),
    memberId: m.orNull("0+", "m-1"),
    memberEpoch: 7,
    heartbeatIntervalMs: 5000,
    assignment: m.orNull("0+", { topicPartitions: [{ topicId: U2, partitions: [1] }] })
  })
})

const consumerGroupDescribe = testCase({
  api: ConsumerGroupDescribe,
  request: (): RequestOf<typeof ConsumerGroupDescribe> => ({ groupIds: ["orders-app", "other"], includeAuthorizedOperations: true }),
  response: (m): ResponseOf<typeof ConsumerGroupDescribe> => ({
    throttleTimeMs: 1,
    groups: [{
      errorCode: 0,
      errorMessage: m.orNull("0+", "ok"),
      groupId: "orders-app",
      groupState: "Stable",
      groupEpoch: 3,
      assignmentEpoch: 3,
      assignorName: "uniform",
      members: [{
        memberId: "m-1",
        instanceId: m.orNull("0+", "instance-1"),
        rackId: m.orNull("0+", "rack-a"),
        memberEpoch: 3,
        clientId: "app",
        clientHost: "/127.0.0.1",
        subscribedTopicNames: ["orders"],
        subscribedTopicRegex: m.orNull("0+", "orders-.*"),
        assignment: { topicPartitions: [{ topicId: U1, topicName: "orders", partitions: [0, 1] }] },
        targetAssignment: { topicPartitions: [] },
        memberType: m.at("1+", 1, -1)
      }],
      authorizedOperations: -2147483648
    }]
  })
})

const cases: ReadonlyArray<Case<any, any>> = [
  produce,
  fetch,
  listOffsets,
  metadata,
  apiVersions,
  describeTopicPartitions,
  addPartitionsToTxn,
  addOffsetsToTxn,
  txnOffsetCommit,
  endTxn,
  writeTxnMarkers,
  describeTransactions,
  listTransactions,
  describeProducers,
  alterConfigs,
  incrementalAlterConfigs,
  consumerGroupHeartbeat,
  consumerGroupDescribe
]

// ---------------------------------------------------------------------------------------------------------

/** Every proper prefix of a message is an error, never a shorter message; trailing bytes are one too. */

roundTrips(cases)

// ---------------------------------------------------------------------------------------------------------

describe("Unknown tagged fields", () => {
  it("are skipped at the top level of a flexible request", () => {
    const bytes = hex(
      "03 6b 63",       // client_software_name: "kc"
      "04 31 2e 30",    // client_software_version: "1.0"
      "02",             // tagged fields: 2, both unknown
      "05 02 ab cd",    //   tag 5, 2 bytes
      "ac 02 00"        //   tag 300 (two-byte varint), 0 bytes
    )
    assert.deepStrictEqual(decodeFromBytes(requestCodec(ApiVersions, 3), bytes), {
      clientSoftwareName: "kc",
      clientSoftwareVersion: "1.0"
    })
  })

  it("are skipped inside nested structs", () => {
    const bytes = hex(
      "02",          // topics: 1 element
      "04 66 6f 6f", //   name: "foo"
      "01",          //   tagged fields: 1
      "07 03 01 02 03", //   tag 7 (unknown), 3 bytes
      "00 00 00 0a", // response_partition_limit: 10
      "01",          // cursor: present
      "04 66 6f 6f", //   topic_name: "foo"
      "00 00 00 01", //   partition_index: 1
      "01",          //   tagged fields: 1
      "00 01 ff",    //     tag 0 (unknown here), 1 byte
      "00"           // tagged fields: none
    )
    assert.deepStrictEqual(decodeFromBytes(requestCodec(DescribeTopicPartitions, 0), bytes), {
      topics: [{ name: "foo" }],
      responsePartitionLimit: 10,
      cursor: { topicName: "foo", partitionIndex: 1 }
    })
  })

  it("are skipped between known ones, even when large", () => {
    const codec = requestCodec(Fetch, 15)
    const big = Array.from({ length: 200 }, () => "5a").join(" ")
    const bytes = hex(
      "00 00 00 64",    // max_wait_ms: 100
      "00 00 00 01",    // min_bytes: 1
      "00 00 04 00",    // max_bytes: 1024
      "00",             // isolation_level: 0
      "00 00 00 00",    // session_id: 0
      "ff ff ff ff",    // session_epoch: -1
      "01",             // topics: empty
      "01",             // forgotten_topics_data: empty
      "01",             // rack_id: ""
      "04",             // tagged fields: 4
      "00 03 03 63 31", //   tag 0 (cluster_id): "c1"
      "01 0d 00 00 00 02 00 00 00 00 00 00 00 03 00", // tag 1 (replica_state): replica 2, epoch 3
      "02 c8 01",       //   tag 2 (unknown), 200 bytes (two-byte varint size)
      big,
      "09 00"           //   tag 9 (unknown), 0 bytes
    )
    const decoded = decodeFromBytes(codec, bytes)
    assert.strictEqual(decoded.clusterId, "c1")
    assert.deepStrictEqual(decoded.replicaState, { replicaId: 2, replicaEpoch: 3 })
    assert.deepStrictEqual(decoded.topics, [])
    assert.strictEqual(decoded.maxBytes, 1024)
  })

  it("that overrun the message are malformed", () => {
    const bytes = hex("03 6b 63", "04 31 2e 30", "01", "05 09 ab cd") // claims 9 bytes, has 2
    assert.throws(() => decodeFromBytes(requestCodec(ApiVersions, 3), bytes), MalformedInput)
  })
})

describe("Null where the version does not allow it", () => {
  it("is refused by the encoder", () => {
    const metadataV0 = requestCodec(Metadata, 0)
    assert.throws(() =>
      encodeToBytes(metadataV0, {
        topics: null,
        allowAutoTopicCreation: true,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false
      }), MalformedInput)
    // Topic names in a Metadata request become nullable in v10.
    const byName = (name: string | null): RequestOf<typeof Metadata> => ({
      topics: [{ topicId: U1, name }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false
    })
    assert.throws(() => encodeToBytes(requestCodec(Metadata, 9), byName(null)), MalformedInput)
    assert.doesNotThrow(() => encodeToBytes(requestCodec(Metadata, 10), byName(null)))
    // A Produce topic name is never nullable, classic or flexible.
    for (const v of [3, 9]) {
      assert.throws(() =>
        encodeToBytes(requestCodec(Produce, v), {
          transactionalId: null,
          acks: 1,
          timeoutMs: 1000,
          topicData: [{ name: null as unknown as string, partitionData: [] }]
        }), MalformedInput)
    }
  })

  it("is refused by the decoder", () => {
    // Metadata v0: topics is an int32-counted array with no null (-1) allowed.
    assert.throws(() => decodeFromBytes(requestCodec(Metadata, 0), hex("ff ff ff ff")), MalformedInput)
    // ...while v1 accepts -1 as "all topics".
    assert.strictEqual(decodeFromBytes(requestCodec(Metadata, 1), hex("ff ff ff ff")).topics, null)
    // Metadata v9: a null (compact 0) topic name, nullable only from v10.
    const nullName = hex("02", "00", "00", "01", "00", "00", "00")
    assert.throws(() => decodeFromBytes(requestCodec(Metadata, 9), nullName), MalformedInput)
    // Produce v3: topic name of int16 length -1.
    assert.throws(() =>
      decodeFromBytes(requestCodec(Produce, 3), hex("ff ff", "00 01", "00 00 03 e8", "00 00 00 01", "ff ff", "00 00 00 00")),
      MalformedInput)
    // Produce v9: topic name of compact length 0 (null).
    assert.throws(() =>
      decodeFromBytes(requestCodec(Produce, 9), hex("00", "00 01", "00 00 03 e8", "02", "00", "01", "00", "00")),
      MalformedInput)
    // Metadata v11 response: topic name nullable only from v12.
    const responseWithNullName = hex(
      "00 00 00 00", // throttle_time_ms
      "01",          // brokers: empty
      "00",          // cluster_id: null
      "ff ff ff ff", // controller_id
      "02",          // topics: 1 element
      "00 03",       //   error_code
      "00",          //   name: null
      "00*16",       //   topic_id
      "00",          //   is_internal
      "01",          //   partitions: empty
      "80 00 00 00", //   topic_authorized_operations
      "00",          //   tagged fields
      "00"           // tagged fields
    )
    assert.throws(() => decodeFromBytes(responseCodec(Metadata, 11), responseWithNullName), MalformedInput)
    assert.strictEqual(decodeFromBytes(responseCodec(Metadata, 12), responseWithNullName).topics[0]!.name, null)
  })
})

describe("Malformed input", () => {
  it("an array count beyond the bytes left is refused before allocating", () => {
    assert.throws(() => decodeFromBytes(requestCodec(Metadata, 0), hex("7f ff ff ff")), MalformedInput)
    assert.throws(() => decodeFromBytes(requestCodec(Metadata, 9), hex("ff ff ff ff 07", "00 00 00")), MalformedInput)
  })

  it("a string that is not UTF-8 is refused", () => {
    assert.throws(() => decodeFromBytes(requestCodec(ApiVersions, 3), hex("02 ff", "01", "00")), MalformedInput)
  })

  it("records of 16 KiB and more survive the by-reference write path", () => {
    const big = new Uint8Array(20_000).map((_, i) => i % 251)
    const value: RequestOf<typeof Produce> = {
      transactionalId: null,
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records: big }, { index: 1, records: BATCH_B }] }]
    }
    for (const v of [3, 11]) {
      const codec = requestCodec(Produce, v)
      assert.deepStrictEqual(decodeFromBytes(codec, encodeToBytes(codec, value)), value)
    }
  })
})

describe("Encoder edge cases", () => {
  it("leaves out a tagged struct equal to its default, whatever the order of its keys", () => {
    // Kafka writes a tagged field only when it differs from its default; key order is not a difference.
    const fetchV15: RequestOf<typeof Fetch> = {
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaEpoch: -1, replicaId: -1 },
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [],
      forgottenTopicsData: [],
      rackId: ""
    }
    assert.strictEqual(
      show(encodeToBytes(requestCodec(Fetch, 15), fetchV15)),
      show(hex("00 00 00 64", "00 00 00 01", "00 00 04 00", "00", "00 00 00 00", "ff ff ff ff", "01", "01", "01", "00"))
    )
    // A value that differs in one field is still written.
    const written = encodeToBytes(requestCodec(Fetch, 15), { ...fetchV15, replicaState: { replicaEpoch: 0, replicaId: -1 } })
    assert.strictEqual(
      show(written.subarray(written.length - 16)),
      show(hex("01", "01 0d", "ff ff ff ff", "00*8", "00")) // 1 tagged field: tag 1, 13 bytes: id -1, epoch 0
    )
  })

  it("refuses a string longer than 32767 bytes instead of wrapping its int16 length", () => {
    const value: RequestOf<typeof Produce> = {
      transactionalId: null,
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: "x".repeat(0x8000), partitionData: [] }]
    }
    for (const v of [3, 9]) assert.throws(() => encodeToBytes(requestCodec(Produce, v), value), MalformedInput)
    const longest = { ...value, topicData: [{ name: "x".repeat(0x7fff), partitionData: [] }] }
    for (const v of [3, 9]) {
      const codec = requestCodec(Produce, v)
      assert.deepStrictEqual(decodeFromBytes(codec, encodeToBytes(codec, longest)), longest)
    }
  })
})
