// Round trips and golden bytes for the admin APIs DescribeLogDirs, OffsetDelete, OffsetForLeaderEpoch,
// ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments, in the style of RoundTrip.test.ts
// and Golden.test.ts: each message described once by a builder that knows from Apache Kafka's JSON specs which
// versions carry which field, every version round-tripped with values and with nulls where allowed, every
// truncation refused; and a few messages written out by hand from the specs, byte for byte.
import { describe, it } from "@effect/vitest"
import {
  requestCodec,
  type RequestOf,
  responseCodec,
  type ResponseOf
} from "../../../src/protocol/Message.ts"
import { AlterPartitionReassignments } from "../../../src/protocol/messages/AlterPartitionReassignments.ts"
import { DescribeLogDirs } from "../../../src/protocol/messages/DescribeLogDirs.ts"
import { ElectLeaders } from "../../../src/protocol/messages/ElectLeaders.ts"
import { ListPartitionReassignments } from "../../../src/protocol/messages/ListPartitionReassignments.ts"
import { OffsetDelete } from "../../../src/protocol/messages/OffsetDelete.ts"
import { OffsetForLeaderEpoch } from "../../../src/protocol/messages/OffsetForLeaderEpoch.ts"
import { type Case, golden, roundTrips, testCase } from "./Cases.ts"
import { hex } from "./hex.ts"

const describeLogDirs = testCase({
  api: DescribeLogDirs,
  request: (m): RequestOf<typeof DescribeLogDirs> => ({
    topics: m.orNull("0+", [{ topic: "orders", partitions: [0, 2] }, { topic: "é", partitions: [] }])
  }),
  response: (m): ResponseOf<typeof DescribeLogDirs> => ({
    throttleTimeMs: 3,
    errorCode: m.at("3+", 31, 0),
    results: [
      {
        errorCode: 0,
        logDir: "/var/lib/kafka",
        topics: [{
          name: "orders",
          partitions: [
            { partitionIndex: 0, partitionSize: 2 ** 40, offsetLag: 0, isFutureKey: false },
            { partitionIndex: 2, partitionSize: 0, offsetLag: 7, isFutureKey: true }
          ]
        }],
        totalBytes: m.at("4+", 2 ** 41, -1),
        usableBytes: m.at("4+", 2 ** 39, -1)
      },
      { errorCode: 56, logDir: "/offline", topics: [], totalBytes: -1, usableBytes: -1 }
    ]
  })
})

const offsetDelete = testCase({
  api: OffsetDelete,
  request: (): RequestOf<typeof OffsetDelete> => ({
    groupId: "group-é",
    topics: [{ name: "orders", partitions: [{ partitionIndex: 0 }, { partitionIndex: 5 }] }, { name: "none", partitions: [] }]
  }),
  response: (): ResponseOf<typeof OffsetDelete> => ({
    errorCode: 0,
    throttleTimeMs: 1,
    topics: [{ name: "orders", partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 5, errorCode: 86 }] }]
  })
})

const offsetForLeaderEpoch = testCase({
  api: OffsetForLeaderEpoch,
  request: (m): RequestOf<typeof OffsetForLeaderEpoch> => ({
    replicaId: m.at("3+", -1, -2),
    topics: [{
      topic: "orders",
      partitions: [
        { partition: 0, currentLeaderEpoch: 4, leaderEpoch: 3 },
        { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0 }
      ]
    }]
  }),
  response: (): ResponseOf<typeof OffsetForLeaderEpoch> => ({
    throttleTimeMs: 9,
    topics: [{
      topic: "orders",
      partitions: [
        { errorCode: 0, partition: 0, leaderEpoch: 3, endOffset: 2 ** 33 },
        { errorCode: 74, partition: 1, leaderEpoch: -1, endOffset: -1 }
      ]
    }]
  })
})

const electLeaders = testCase({
  api: ElectLeaders,
  request: (m): RequestOf<typeof ElectLeaders> => ({
    electionType: m.at("1+", 1, 0),
    topicPartitions: m.orNull("0+", [{ topic: "orders", partitions: [0, 1, 2] }]),
    timeoutMs: 30_000
  }),
  response: (m): ResponseOf<typeof ElectLeaders> => ({
    throttleTimeMs: 0,
    errorCode: m.at("1+", 42, 0),
    replicaElectionResults: [{
      topic: "orders",
      partitionResult: [
        { partitionId: 0, errorCode: 84, errorMessage: m.orNull("0+", "Leader election not needed for topic partition.") },
        { partitionId: 9, errorCode: 3, errorMessage: "No such partition as orders-9" }
      ]
    }]
  })
})

const alterPartitionReassignments = testCase({
  api: AlterPartitionReassignments,
  request: (m): RequestOf<typeof AlterPartitionReassignments> => ({
    timeoutMs: 60_000,
    allowReplicationFactorChange: m.at("1+", false, true),
    topics: [{
      name: "orders",
      partitions: [{ partitionIndex: 0, replicas: m.orNull("0+", [1, 2]) }, { partitionIndex: 1, replicas: [1] }]
    }]
  }),
  response: (m): ResponseOf<typeof AlterPartitionReassignments> => ({
    throttleTimeMs: 0,
    allowReplicationFactorChange: m.at("1+", false, true),
    errorCode: 0,
    errorMessage: m.orNull("0+", "none"),
    responses: [{
      name: "orders",
      partitions: [
        { partitionIndex: 0, errorCode: 39, errorMessage: "The manual partition assignment includes broker 2, but no such broker is registered." },
        { partitionIndex: 1, errorCode: 85, errorMessage: m.orNull("0+", "") }
      ]
    }]
  })
})

const listPartitionReassignments = testCase({
  api: ListPartitionReassignments,
  request: (m): RequestOf<typeof ListPartitionReassignments> => ({
    timeoutMs: 1000,
    topics: m.orNull("0+", [{ name: "orders", partitionIndexes: [0, 3] }])
  }),
  response: (m): ResponseOf<typeof ListPartitionReassignments> => ({
    throttleTimeMs: 2,
    errorCode: 0,
    errorMessage: m.orNull("0+", "ok"),
    topics: [{ name: "orders", partitions: [{ partitionIndex: 3, replicas: [1, 2], addingReplicas: [2], removingReplicas: [] }] }]
  })
})

const cases: ReadonlyArray<Case<any, any>> = [
  describeLogDirs,
  offsetDelete,
  offsetForLeaderEpoch,
  electLeaders,
  alterPartitionReassignments,
  listPartitionReassignments
]

roundTrips(cases)

// ---------------------------------------------------------------------------------------------------------
// Golden bytes, written by hand from the JSON specs (never regenerate them from the encoder).

describe("Admin golden bytes", () => {
  it("DescribeLogDirs v1 request: all topics (null, int32 -1)", () => {
    golden(requestCodec(DescribeLogDirs, 1), { topics: null }, hex("ff ff ff ff"))
  })

  it("DescribeLogDirs v4 response: flexible, with the volume's sizes", () => {
    golden(responseCodec(DescribeLogDirs, 4), {
      throttleTimeMs: 0,
      errorCode: 0,
      results: [{
        errorCode: 0,
        logDir: "/d",
        topics: [{ name: "t", partitions: [{ partitionIndex: 1, partitionSize: 300, offsetLag: 0, isFutureKey: false }] }],
        totalBytes: 4096,
        usableBytes: -1
      }]
    }, hex(
      "00 00 00 00",             // throttle_time_ms
      "00 00",                   // error_code (v3+)
      "02",                      // results: 1
      "00 00",                   //   error_code
      "03 2f 64",                //   log_dir: "/d"
      "02",                      //   topics: 1
      "02 74",                   //     name: "t"
      "02",                      //     partitions: 1
      "00 00 00 01",             //       partition_index
      "00 00 00 00 00 00 01 2c", //       partition_size: 300
      "00*8",                    //       offset_lag
      "00",                      //       is_future_key
      "00",                      //       tagged fields
      "00",                      //     tagged fields
      "00 00 00 00 00 00 10 00", //   total_bytes (v4+)
      "ff*8",                    //   usable_bytes (v4+)
      "00",                      //   tagged fields
      "00"                       // tagged fields
    ))
  })

  it("OffsetDelete v0 request and response: classic encodings", () => {
    golden(requestCodec(OffsetDelete, 0), { groupId: "g", topics: [{ name: "t", partitions: [{ partitionIndex: 2 }] }] }, hex(
      "00 01 67",    // group_id: "g"
      "00 00 00 01", // topics: 1
      "00 01 74",    //   name: "t"
      "00 00 00 01", //   partitions: 1
      "00 00 00 02"  //     partition_index
    ))
    golden(responseCodec(OffsetDelete, 0), {
      errorCode: 0,
      throttleTimeMs: 0,
      topics: [{ name: "t", partitions: [{ partitionIndex: 2, errorCode: 86 }] }]
    }, hex("00 00", "00 00 00 00", "00 00 00 01", "00 01 74", "00 00 00 01", "00 00 00 02", "00 56"))
  })

  it("OffsetForLeaderEpoch v3 request: replica id, then topics (current epoch before the epoch)", () => {
    golden(requestCodec(OffsetForLeaderEpoch, 3), {
      replicaId: -1,
      topics: [{ topic: "t", partitions: [{ partition: 0, currentLeaderEpoch: 5, leaderEpoch: 4 }] }]
    }, hex("ff ff ff ff", "00 00 00 01", "00 01 74", "00 00 00 01", "00 00 00 00", "00 00 00 05", "00 00 00 04"))
  })

  it("ElectLeaders v0 request: no election type; null topic partitions", () => {
    golden(requestCodec(ElectLeaders, 0), { electionType: 0, topicPartitions: null, timeoutMs: 60000 }, hex("ff ff ff ff", "00 00 ea 60"))
  })

  it("AlterPartitionReassignments v1 request: allow_replication_factor_change after timeout_ms; a cancel (null replicas)", () => {
    golden(requestCodec(AlterPartitionReassignments, 1), {
      timeoutMs: 60000,
      allowReplicationFactorChange: false,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, replicas: null }] }]
    }, hex(
      "00 00 ea 60", // timeout_ms
      "00",          // allow_replication_factor_change
      "02",          // topics: 1
      "02 74",       //   name
      "02",          //   partitions: 1
      "00 00 00 00", //     partition_index
      "00",          //     replicas: null
      "00",          //     tagged fields
      "00",          //   tagged fields
      "00"           // tagged fields
    ))
  })

  it("ListPartitionReassignments v0 response: nothing in progress", () => {
    golden(responseCodec(ListPartitionReassignments, 0), { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: [] }, hex(
      "00 00 00 00", "00 00", "00", "01", "00"
    ))
  })
})
