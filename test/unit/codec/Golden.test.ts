// Golden bytes: every array below was written by hand from Apache Kafka's JSON message specs and the wire rules
// (big-endian integers; classic strings with an int16 length, -1 for null; classic arrays and bytes with an
// int32 length, -1 for null; flexible versions with compact lengths = unsigned varint of length + 1, 0 for
// null, and a tagged-field section — count, then tag, size, bytes — closing every struct; nullable structs
// behind an int8 marker, -1 null / 1 present). They check the message definitions and the engine against the
// specification, so they must never be regenerated from our own encoder.
import { assert, describe, it } from "@effect/vitest"
import { ByteReader, ByteWriter, ZERO_UUID } from "../../../src/protocol/Bytes.ts"
import { readHeaderPrefix, readHeaderRest, type RequestHeader, writeRequestHeader, writeResponseHeader } from "../../../src/protocol/Header.ts"
import {
  type Api,
  isFlexible,
  requestCodec,
  type RequestOf,
  responseCodec,
  type ResponseOf
} from "../../../src/protocol/Message.ts"
import { AddPartitionsToTxn } from "../../../src/protocol/messages/AddPartitionsToTxn.ts"
import { ApiVersions } from "../../../src/protocol/messages/ApiVersions.ts"
import { DescribeTopicPartitions } from "../../../src/protocol/messages/DescribeTopicPartitions.ts"
import { EndTxn } from "../../../src/protocol/messages/EndTxn.ts"
import { Fetch } from "../../../src/protocol/messages/Fetch.ts"
import { ListOffsets } from "../../../src/protocol/messages/ListOffsets.ts"
import { Metadata } from "../../../src/protocol/messages/Metadata.ts"
import { Produce } from "../../../src/protocol/messages/Produce.ts"
import { golden } from "./Cases.ts"
import { hex, show } from "./hex.ts"

const U1 = "01234567-89ab-cdef-0123-456789abcdef"
const U1_BYTES = "01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef"
const U2 = "fedcba98-7654-3210-fedc-ba9876543210"
const U2_BYTES = "fe dc ba 98 76 54 32 10 fe dc ba 98 76 54 32 10"
const NO_OPS = -2147483648 // the "authorized operations not requested" default

/** The encoder writes exactly `bytes`, and the decoder reads them back to `value` with nothing left over. */

const request = <Req>(api: Api<Req, any>, version: number, value: Req, bytes: Uint8Array) =>
  golden(requestCodec(api, version), value, bytes)

const response = <Res>(api: Api<any, Res>, version: number, value: Res, bytes: Uint8Array) =>
  golden(responseCodec(api, version), value, bytes)

/** A whole request frame body: header (v1 classic, v2 flexible) followed by the message. */
const requestFrame = <Req>(api: Api<Req, any>, header: RequestHeader, value: Req, bytes: Uint8Array): void => {
  const flexible = isFlexible(api, header.apiVersion)
  const codec = requestCodec(api, header.apiVersion)
  const w = new ByteWriter()
  writeRequestHeader(w, header, flexible)
  codec.write(w, value)
  assert.strictEqual(show(w.toBytes()), show(bytes))

  const r = new ByteReader(bytes)
  const prefix = readHeaderPrefix(r)
  assert.deepStrictEqual(prefix, { apiKey: header.apiKey, apiVersion: header.apiVersion, correlationId: header.correlationId })
  assert.strictEqual(readHeaderRest(r, flexible), header.clientId)
  assert.deepStrictEqual(codec.read(r), value)
  assert.strictEqual(r.remaining, 0)
}

/** A whole response frame body: header v0 (correlation id) or v1 (plus tagged fields), then the message. */
const responseFrame = <Res>(
  api: Api<any, Res>,
  version: number,
  headerFlexible: boolean,
  correlationId: number,
  value: Res,
  bytes: Uint8Array
): void => {
  const codec = responseCodec(api, version)
  const w = new ByteWriter()
  writeResponseHeader(w, correlationId, headerFlexible)
  codec.write(w, value)
  assert.strictEqual(show(w.toBytes()), show(bytes))

  const r = new ByteReader(bytes)
  assert.strictEqual(r.int32(), correlationId)
  if (headerFlexible) assert.strictEqual(r.uvarint(), 0)
  assert.deepStrictEqual(codec.read(r), value)
  assert.strictEqual(r.remaining, 0)
}

// ---------------------------------------------------------------------------------------------------------

describe("Golden bytes: Produce", () => {
  const noLeader = { leaderId: -1, leaderEpoch: -1 }

  it("v3 request (lowest, classic)", () => {
    const value: RequestOf<typeof Produce> = {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1500,
      topicData: [{ name: "foo", partitionData: [{ index: 0, records: hex("01 02 03") }, { index: 1, records: null }] }]
    }
    request(Produce, 3, value, hex(
      "ff ff",                // transactional_id: null (int16 -1)
      "ff ff",                // acks: -1
      "00 00 05 dc",          // timeout_ms: 1500
      "00 00 00 01",          // topic_data: 1 element (int32)
      "00 03 66 6f 6f",       //   name: "foo"
      "00 00 00 02",          //   partition_data: 2 elements
      "00 00 00 00",          //     index: 0
      "00 00 00 03 01 02 03", //     records: 3 bytes (int32 length)
      "00 00 00 01",          //     index: 1
      "ff ff ff ff"           //     records: null
    ))
  })

  it("v3 response (lowest, classic)", () => {
    const value: ResponseOf<typeof Produce> = {
      responses: [{
        name: "foo",
        partitionResponses: [
          {
            index: 0,
            errorCode: 0,
            baseOffset: 42,
            logAppendTimeMs: 2 ** 40 + 2,
            logStartOffset: -1,
            recordErrors: [],
            errorMessage: null,
            currentLeader: noLeader
          },
          {
            index: 1,
            errorCode: 3,
            baseOffset: -1,
            logAppendTimeMs: -1,
            logStartOffset: -1,
            recordErrors: [],
            errorMessage: null,
            currentLeader: noLeader
          }
        ]
      }],
      throttleTimeMs: 10,
      nodeEndpoints: []
    }
    response(Produce, 3, value, hex(
      "00 00 00 01",             // responses: 1 element
      "00 03 66 6f 6f",          //   name: "foo"
      "00 00 00 02",             //   partition_responses: 2 elements
      "00 00 00 00",             //     index: 0
      "00 00",                   //     error_code: 0
      "00 00 00 00 00 00 00 2a", //     base_offset: 42
      "00 00 01 00 00 00 00 02", //     log_append_time_ms: 2^40 + 2
      "00 00 00 01",             //     index: 1
      "00 03",                   //     error_code: 3
      "ff*8",                    //     base_offset: -1
      "ff*8",                    //     log_append_time_ms: -1
      "00 00 00 0a"              // throttle_time_ms: 10
    ))
  })

  it("v9 request (first flexible)", () => {
    const value: RequestOf<typeof Produce> = {
      transactionalId: "tx",
      acks: 1,
      timeoutMs: 30000,
      topicData: [{ name: "foo", partitionData: [{ index: 2, records: hex("0a 0b") }] }]
    }
    request(Produce, 9, value, hex(
      "03 74 78",    // transactional_id: "tx" (compact: length 2 + 1)
      "00 01",       // acks: 1
      "00 00 75 30", // timeout_ms: 30000
      "02",          // topic_data: 1 element (compact: 1 + 1)
      "04 66 6f 6f", //   name: "foo"
      "02",          //   partition_data: 1 element
      "00 00 00 02", //     index: 2
      "03 0a 0b",    //     records: 2 bytes (compact)
      "00",          //     tagged fields: none
      "00",          //   tagged fields: none
      "00"           // tagged fields: none
    ))
  })

  it("v9 response (first flexible)", () => {
    const value: ResponseOf<typeof Produce> = {
      responses: [{
        name: "foo",
        partitionResponses: [{
          index: 2,
          errorCode: 87,
          baseOffset: -1,
          logAppendTimeMs: -1,
          logStartOffset: 0,
          recordErrors: [{ batchIndex: 1, batchIndexErrorMessage: "x" }, { batchIndex: 4, batchIndexErrorMessage: null }],
          errorMessage: "bad",
          currentLeader: noLeader
        }]
      }],
      throttleTimeMs: 0,
      nodeEndpoints: []
    }
    response(Produce, 9, value, hex(
      "02",          // responses: 1 element
      "04 66 6f 6f", //   name: "foo"
      "02",          //   partition_responses: 1 element
      "00 00 00 02", //     index: 2
      "00 57",       //     error_code: 87 (INVALID_RECORD)
      "ff*8",        //     base_offset: -1
      "ff*8",        //     log_append_time_ms: -1
      "00*8",        //     log_start_offset: 0
      "03",          //     record_errors: 2 elements
      "00 00 00 01", //       batch_index: 1
      "02 78",       //       batch_index_error_message: "x"
      "00",          //       tagged fields: none
      "00 00 00 04", //       batch_index: 4
      "00",          //       batch_index_error_message: null
      "00",          //       tagged fields: none
      "04 62 61 64", //     error_message: "bad"
      "00",          //     tagged fields: none (current_leader is v10+)
      "00",          //   tagged fields: none
      "00 00 00 00", // throttle_time_ms: 0
      "00"           // tagged fields: none (node_endpoints is v10+)
    ))
  })

  it("v11 request (highest) with request header v2", () => {
    const value: RequestOf<typeof Produce> = {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [
        { name: "foo", partitionData: [{ index: 0, records: null }] },
        { name: "bar", partitionData: [{ index: 3, records: hex("de ad be ef") }] }
      ]
    }
    const body = [
      "00",             // transactional_id: null (compact 0)
      "ff ff",          // acks: -1
      "00 00 13 88",    // timeout_ms: 5000
      "03",             // topic_data: 2 elements
      "04 66 6f 6f",    //   name: "foo"
      "02",             //   partition_data: 1 element
      "00 00 00 00",    //     index: 0
      "00",             //     records: null
      "00",             //     tagged fields: none
      "00",             //   tagged fields: none
      "04 62 61 72",    //   name: "bar"
      "02",             //   partition_data: 1 element
      "00 00 00 03",    //     index: 3
      "05 de ad be ef", //     records: 4 bytes
      "00",             //     tagged fields: none
      "00",             //   tagged fields: none
      "00"              // tagged fields: none
    ]
    request(Produce, 11, value, hex(...body))
    requestFrame(Produce, { apiKey: 0, apiVersion: 11, correlationId: 42, clientId: "cli" }, value, hex(
      "00 00",          // header: request_api_key 0 (Produce)
      "00 0b",          // header: request_api_version 11
      "00 00 00 2a",    // header: correlation_id 42
      "00 03 63 6c 69", // header: client_id "cli" (int16 length even in header v2)
      "00",             // header: tagged fields: none
      ...body
    ))
  })

  it("v11 response (highest) with response header v1", () => {
    const value: ResponseOf<typeof Produce> = {
      responses: [{
        name: "foo",
        partitionResponses: [{
          index: 0,
          errorCode: 6,
          baseOffset: -1,
          logAppendTimeMs: -1,
          logStartOffset: -1,
          recordErrors: [],
          errorMessage: null,
          currentLeader: { leaderId: 2, leaderEpoch: 5 }
        }]
      }],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: "h2", port: 9092, rack: null }]
    }
    const body = [
      "02",          // responses: 1 element
      "04 66 6f 6f", //   name: "foo"
      "02",          //   partition_responses: 1 element
      "00 00 00 00", //     index: 0
      "00 06",       //     error_code: 6 (NOT_LEADER_OR_FOLLOWER)
      "ff*8",        //     base_offset: -1
      "ff*8",        //     log_append_time_ms: -1
      "ff*8",        //     log_start_offset: -1
      "01",          //     record_errors: empty
      "00",          //     error_message: null
      "01",          //     tagged fields: 1
      "00 09",       //       tag 0 (current_leader), 9 bytes
      "00 00 00 02", //         leader_id: 2
      "00 00 00 05", //         leader_epoch: 5
      "00",          //         tagged fields: none
      "00",          //   tagged fields: none
      "00 00 00 00", // throttle_time_ms: 0
      "01",          // tagged fields: 1
      "00 0e",       //   tag 0 (node_endpoints), 14 bytes
      "02",          //     1 element
      "00 00 00 02", //       node_id: 2
      "03 68 32",    //       host: "h2"
      "00 00 23 84", //       port: 9092
      "00",          //       rack: null
      "00"           //       tagged fields: none
    ]
    response(Produce, 11, value, hex(...body))
    responseFrame(Produce, 11, true, 42, value, hex(
      "00 00 00 2a", // header: correlation_id 42
      "00",          // header v1: tagged fields: none
      ...body
    ))
  })
})

// ---------------------------------------------------------------------------------------------------------

describe("Golden bytes: Fetch", () => {
  const noEpoch = { epoch: -1, endOffset: -1 }
  const noLeader = { leaderId: -1, leaderEpoch: -1 }
  const noSnapshot = { endOffset: -1, epoch: -1 }
  const noReplicaState = { replicaId: -1, replicaEpoch: -1 }

  it("v4 request (lowest, classic)", () => {
    const value: RequestOf<typeof Fetch> = {
      clusterId: null,
      replicaId: -1,
      replicaState: noReplicaState,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52428800,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic: "foo",
        topicId: ZERO_UUID,
        partitions: [{
          partition: 0,
          currentLeaderEpoch: -1,
          fetchOffset: 100,
          lastFetchedEpoch: -1,
          logStartOffset: -1,
          partitionMaxBytes: 1048576,
          replicaDirectoryId: ZERO_UUID
        }]
      }],
      forgottenTopicsData: [],
      rackId: ""
    }
    request(Fetch, 4, value, hex(
      "ff ff ff ff",             // replica_id: -1
      "00 00 01 f4",             // max_wait_ms: 500
      "00 00 00 01",             // min_bytes: 1
      "03 20 00 00",             // max_bytes: 50 MiB
      "01",                      // isolation_level: 1 (read committed)
      "00 00 00 01",             // topics: 1 element
      "00 03 66 6f 6f",          //   topic: "foo"
      "00 00 00 01",             //   partitions: 1 element
      "00 00 00 00",             //     partition: 0
      "00 00 00 00 00 00 00 64", //     fetch_offset: 100
      "00 10 00 00"              //     partition_max_bytes: 1 MiB
    ))
  })

  it("v4 response (lowest, classic)", () => {
    const value: ResponseOf<typeof Fetch> = {
      throttleTimeMs: 20,
      errorCode: 0,
      sessionId: 0,
      responses: [{
        topic: "foo",
        topicId: ZERO_UUID,
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 0,
            highWatermark: 5,
            lastStableOffset: 4,
            logStartOffset: -1,
            divergingEpoch: noEpoch,
            currentLeader: noLeader,
            snapshotId: noSnapshot,
            abortedTransactions: [{ producerId: 7, firstOffset: 2 }],
            preferredReadReplica: -1,
            records: hex("aa bb")
          },
          {
            partitionIndex: 1,
            errorCode: 1,
            highWatermark: -1,
            lastStableOffset: -1,
            logStartOffset: -1,
            divergingEpoch: noEpoch,
            currentLeader: noLeader,
            snapshotId: noSnapshot,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: null
          }
        ]
      }],
      nodeEndpoints: []
    }
    response(Fetch, 4, value, hex(
      "00 00 00 14",       // throttle_time_ms: 20
      "00 00 00 01",       // responses: 1 element
      "00 03 66 6f 6f",    //   topic: "foo"
      "00 00 00 02",       //   partitions: 2 elements
      "00 00 00 00",       //     partition_index: 0
      "00 00",             //     error_code: 0
      "00*7 05",           //     high_watermark: 5
      "00*7 04",           //     last_stable_offset: 4
      "00 00 00 01",       //     aborted_transactions: 1 element
      "00*7 07",           //       producer_id: 7
      "00*7 02",           //       first_offset: 2
      "00 00 00 02 aa bb", //     records: 2 bytes
      "00 00 00 01",       //     partition_index: 1
      "00 01",             //     error_code: 1 (OFFSET_OUT_OF_RANGE)
      "ff*8",              //     high_watermark: -1
      "ff*8",              //     last_stable_offset: -1
      "ff ff ff ff",       //     aborted_transactions: null
      "ff ff ff ff"        //     records: null
    ))
  })

  it("v12 request (first flexible)", () => {
    const value: RequestOf<typeof Fetch> = {
      clusterId: "c1",
      replicaId: -1,
      replicaState: noReplicaState,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 0x7fffffff,
      isolationLevel: 0,
      sessionId: 7,
      sessionEpoch: 2,
      topics: [{
        topic: "foo",
        topicId: ZERO_UUID,
        partitions: [{
          partition: 1,
          currentLeaderEpoch: 3,
          fetchOffset: 10,
          lastFetchedEpoch: 2,
          logStartOffset: 0,
          partitionMaxBytes: 65536,
          replicaDirectoryId: ZERO_UUID
        }]
      }],
      forgottenTopicsData: [{ topic: "bar", topicId: ZERO_UUID, partitions: [0, 2] }],
      rackId: "r1"
    }
    request(Fetch, 12, value, hex(
      "ff ff ff ff",                // replica_id: -1
      "00 00 01 f4",                // max_wait_ms: 500
      "00 00 00 01",                // min_bytes: 1
      "7f ff ff ff",                // max_bytes: 2^31 - 1
      "00",                         // isolation_level: 0
      "00 00 00 07",                // session_id: 7
      "00 00 00 02",                // session_epoch: 2
      "02",                         // topics: 1 element
      "04 66 6f 6f",                //   topic: "foo"
      "02",                         //   partitions: 1 element
      "00 00 00 01",                //     partition: 1
      "00 00 00 03",                //     current_leader_epoch: 3
      "00*7 0a",                    //     fetch_offset: 10
      "00 00 00 02",                //     last_fetched_epoch: 2
      "00*8",                       //     log_start_offset: 0
      "00 01 00 00",                //     partition_max_bytes: 64 KiB
      "00",                         //     tagged fields: none
      "00",                         //   tagged fields: none
      "02",                         // forgotten_topics_data: 1 element
      "04 62 61 72",                //   topic: "bar"
      "03 00 00 00 00 00 00 00 02", //   partitions: [0, 2]
      "00",                         //   tagged fields: none
      "03 72 31",                   // rack_id: "r1"
      "01",                         // tagged fields: 1
      "00 03",                      //   tag 0 (cluster_id), 3 bytes
      "03 63 31"                    //     "c1"
    ))
  })

  it("v12 response (first flexible)", () => {
    const value: ResponseOf<typeof Fetch> = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 7,
      responses: [{
        topic: "foo",
        topicId: ZERO_UUID,
        partitions: [{
          partitionIndex: 0,
          errorCode: 0,
          highWatermark: 10,
          lastStableOffset: 10,
          logStartOffset: 0,
          divergingEpoch: { epoch: 1, endOffset: 8 },
          currentLeader: { leaderId: 1, leaderEpoch: 2 },
          snapshotId: { endOffset: 4, epoch: 1 },
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: hex("01 02 03")
        }]
      }],
      nodeEndpoints: []
    }
    response(Fetch, 12, value, hex(
      "00 00 00 00", // throttle_time_ms: 0
      "00 00",       // error_code: 0
      "00 00 00 07", // session_id: 7
      "02",          // responses: 1 element
      "04 66 6f 6f", //   topic: "foo"
      "02",          //   partitions: 1 element
      "00 00 00 00", //     partition_index: 0
      "00 00",       //     error_code: 0
      "00*7 0a",     //     high_watermark: 10
      "00*7 0a",     //     last_stable_offset: 10
      "00*8",        //     log_start_offset: 0
      "00",          //     aborted_transactions: null
      "ff ff ff ff", //     preferred_read_replica: -1
      "04 01 02 03", //     records: 3 bytes
      "03",          //     tagged fields: 3
      "00 0d",       //       tag 0 (diverging_epoch), 13 bytes
      "00 00 00 01", //         epoch: 1
      "00*7 08",     //         end_offset: 8
      "00",          //         tagged fields: none
      "01 09",       //       tag 1 (current_leader), 9 bytes
      "00 00 00 01", //         leader_id: 1
      "00 00 00 02", //         leader_epoch: 2
      "00",          //         tagged fields: none
      "02 0d",       //       tag 2 (snapshot_id), 13 bytes
      "00*7 04",     //         end_offset: 4
      "00 00 00 01", //         epoch: 1
      "00",          //         tagged fields: none
      "00",          //   tagged fields: none
      "00"           // tagged fields: none
    ))
  })

  it("v16 request (highest)", () => {
    const value: RequestOf<typeof Fetch> = {
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: 3, replicaEpoch: 9 },
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1024,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic: "",
        topicId: U1,
        partitions: [{
          partition: 0,
          currentLeaderEpoch: 5,
          fetchOffset: 2 ** 32,
          lastFetchedEpoch: -1,
          logStartOffset: -1,
          partitionMaxBytes: 4096,
          replicaDirectoryId: ZERO_UUID
        }]
      }],
      forgottenTopicsData: [{ topic: "", topicId: U2, partitions: [1] }],
      rackId: ""
    }
    request(Fetch, 16, value, hex(
      // no replica_id: it left the body in v15 for the tagged replica_state
      "00 00 00 64",             // max_wait_ms: 100
      "00 00 00 01",             // min_bytes: 1
      "00 00 04 00",             // max_bytes: 1024
      "01",                      // isolation_level: 1
      "00 00 00 00",             // session_id: 0
      "ff ff ff ff",             // session_epoch: -1
      "02",                      // topics: 1 element
      U1_BYTES,                  //   topic_id
      "02",                      //   partitions: 1 element
      "00 00 00 00",             //     partition: 0
      "00 00 00 05",             //     current_leader_epoch: 5
      "00 00 00 01 00 00 00 00", //     fetch_offset: 2^32
      "ff ff ff ff",             //     last_fetched_epoch: -1
      "ff*8",                    //     log_start_offset: -1
      "00 00 10 00",             //     partition_max_bytes: 4096
      "00",                      //     tagged fields: none
      "00",                      //   tagged fields: none
      "02",                      // forgotten_topics_data: 1 element
      U2_BYTES,                  //   topic_id
      "02 00 00 00 01",          //   partitions: [1]
      "00",                      //   tagged fields: none
      "01",                      // rack_id: ""
      "01",                      // tagged fields: 1 (cluster_id is null, its default)
      "01 0d",                   //   tag 1 (replica_state), 13 bytes
      "00 00 00 03",             //     replica_id: 3
      "00*7 09",                 //     replica_epoch: 9
      "00"                       //     tagged fields: none
    ))
  })

  it("v16 response (highest)", () => {
    const value: ResponseOf<typeof Fetch> = {
      throttleTimeMs: 1,
      errorCode: 0,
      sessionId: 0,
      responses: [{
        topic: "",
        topicId: U1,
        partitions: [{
          partitionIndex: 0,
          errorCode: 6,
          highWatermark: -1,
          lastStableOffset: -1,
          logStartOffset: -1,
          divergingEpoch: noEpoch,
          currentLeader: { leaderId: 2, leaderEpoch: 3 },
          snapshotId: noSnapshot,
          abortedTransactions: [],
          preferredReadReplica: -1,
          records: null
        }]
      }],
      nodeEndpoints: [{ nodeId: 2, host: "h2", port: 9092, rack: "r1" }]
    }
    response(Fetch, 16, value, hex(
      "00 00 00 01", // throttle_time_ms: 1
      "00 00",       // error_code: 0
      "00 00 00 00", // session_id: 0
      "02",          // responses: 1 element
      U1_BYTES,      //   topic_id
      "02",          //   partitions: 1 element
      "00 00 00 00", //     partition_index: 0
      "00 06",       //     error_code: 6
      "ff*8",        //     high_watermark: -1
      "ff*8",        //     last_stable_offset: -1
      "ff*8",        //     log_start_offset: -1
      "01",          //     aborted_transactions: empty
      "ff ff ff ff", //     preferred_read_replica: -1
      "00",          //     records: null
      "01",          //     tagged fields: 1
      "01 09",       //       tag 1 (current_leader), 9 bytes
      "00 00 00 02", //         leader_id: 2
      "00 00 00 03", //         leader_epoch: 3
      "00",          //         tagged fields: none
      "00",          //   tagged fields: none
      "01",          // tagged fields: 1
      "00 10",       //   tag 0 (node_endpoints), 16 bytes
      "02",          //     1 element
      "00 00 00 02", //       node_id: 2
      "03 68 32",    //       host: "h2"
      "00 00 23 84", //       port: 9092
      "03 72 31",    //       rack: "r1"
      "00"           //       tagged fields: none
    ))
  })
})

// ---------------------------------------------------------------------------------------------------------

describe("Golden bytes: Metadata", () => {
  it("v0 request (lowest, classic)", () => {
    const value: RequestOf<typeof Metadata> = {
      topics: [{ topicId: ZERO_UUID, name: "foo" }, { topicId: ZERO_UUID, name: "bar" }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false
    }
    request(Metadata, 0, value, hex(
      "00 00 00 02",   // topics: 2 elements
      "00 03 66 6f 6f", //   name: "foo"
      "00 03 62 61 72"  //   name: "bar"
    ))
  })

  it("v0 response (lowest, classic)", () => {
    const value: ResponseOf<typeof Metadata> = {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: "h1", port: 9092, rack: null }],
      clusterId: null,
      controllerId: -1,
      topics: [{
        errorCode: 0,
        name: "foo",
        topicId: ZERO_UUID,
        isInternal: false,
        partitions: [{
          errorCode: 9,
          partitionIndex: 0,
          leaderId: 1,
          leaderEpoch: -1,
          replicaNodes: [1, 2],
          isrNodes: [1],
          offlineReplicas: []
        }],
        topicAuthorizedOperations: NO_OPS
      }],
      clusterAuthorizedOperations: NO_OPS
    }
    response(Metadata, 0, value, hex(
      "00 00 00 01",                         // brokers: 1 element
      "00 00 00 01",                         //   node_id: 1
      "00 02 68 31",                         //   host: "h1"
      "00 00 23 84",                         //   port: 9092
      "00 00 00 01",                         // topics: 1 element
      "00 00",                               //   error_code: 0
      "00 03 66 6f 6f",                      //   name: "foo"
      "00 00 00 01",                         //   partitions: 1 element
      "00 09",                               //     error_code: 9 (REPLICA_NOT_AVAILABLE)
      "00 00 00 00",                         //     partition_index: 0
      "00 00 00 01",                         //     leader_id: 1
      "00 00 00 02 00 00 00 01 00 00 00 02", //     replica_nodes: [1, 2]
      "00 00 00 01 00 00 00 01"              //     isr_nodes: [1]
    ))
  })

  it("v9 request (first flexible)", () => {
    const value: RequestOf<typeof Metadata> = {
      topics: [{ topicId: ZERO_UUID, name: "foo" }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: true,
      includeTopicAuthorizedOperations: true
    }
    request(Metadata, 9, value, hex(
      "02",          // topics: 1 element
      "04 66 6f 6f", //   name: "foo"
      "00",          //   tagged fields: none
      "00",          // allow_auto_topic_creation: false
      "01",          // include_cluster_authorized_operations: true
      "01",          // include_topic_authorized_operations: true
      "00"           // tagged fields: none
    ))
  })

  it("v9 response (first flexible)", () => {
    const value: ResponseOf<typeof Metadata> = {
      throttleTimeMs: 5,
      brokers: [
        { nodeId: 1, host: "h1", port: 9092, rack: "r1" },
        { nodeId: 2, host: "h2", port: 9093, rack: null }
      ],
      clusterId: "c1",
      controllerId: 1,
      topics: [{
        errorCode: 0,
        name: "foo",
        topicId: ZERO_UUID,
        isInternal: true,
        partitions: [{
          errorCode: 0,
          partitionIndex: 0,
          leaderId: 1,
          leaderEpoch: 7,
          replicaNodes: [1, 2],
          isrNodes: [1],
          offlineReplicas: [2]
        }],
        topicAuthorizedOperations: 248
      }],
      clusterAuthorizedOperations: 3968
    }
    response(Metadata, 9, value, hex(
      "00 00 00 05",                // throttle_time_ms: 5
      "03",                         // brokers: 2 elements
      "00 00 00 01",                //   node_id: 1
      "03 68 31",                   //   host: "h1"
      "00 00 23 84",                //   port: 9092
      "03 72 31",                   //   rack: "r1"
      "00",                         //   tagged fields: none
      "00 00 00 02",                //   node_id: 2
      "03 68 32",                   //   host: "h2"
      "00 00 23 85",                //   port: 9093
      "00",                         //   rack: null
      "00",                         //   tagged fields: none
      "03 63 31",                   // cluster_id: "c1"
      "00 00 00 01",                // controller_id: 1
      "02",                         // topics: 1 element
      "00 00",                      //   error_code: 0
      "04 66 6f 6f",                //   name: "foo"
      "01",                         //   is_internal: true
      "02",                         //   partitions: 1 element
      "00 00",                      //     error_code: 0
      "00 00 00 00",                //     partition_index: 0
      "00 00 00 01",                //     leader_id: 1
      "00 00 00 07",                //     leader_epoch: 7
      "03 00 00 00 01 00 00 00 02", //     replica_nodes: [1, 2]
      "02 00 00 00 01",             //     isr_nodes: [1]
      "02 00 00 00 02",             //     offline_replicas: [2]
      "00",                         //     tagged fields: none
      "00 00 00 f8",                //   topic_authorized_operations: 248
      "00",                         //   tagged fields: none
      "00 00 0f 80",                // cluster_authorized_operations: 3968
      "00"                          // tagged fields: none
    ))
  })

  it("v12 request (highest)", () => {
    const value: RequestOf<typeof Metadata> = {
      topics: [{ topicId: U1, name: null }, { topicId: ZERO_UUID, name: "bar" }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false
    }
    request(Metadata, 12, value, hex(
      "03",          // topics: 2 elements
      U1_BYTES,      //   topic_id
      "00",          //   name: null
      "00",          //   tagged fields: none
      "00*16",       //   topic_id: zero
      "04 62 61 72", //   name: "bar"
      "00",          //   tagged fields: none
      "01",          // allow_auto_topic_creation: true
      "00",          // include_topic_authorized_operations: false
      "00"           // tagged fields: none
    ))
  })

  it("v12 request for all topics (null array)", () => {
    const value: RequestOf<typeof Metadata> = {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: true
    }
    request(Metadata, 12, value, hex(
      "00", // topics: null
      "00", // allow_auto_topic_creation: false
      "01", // include_topic_authorized_operations: true
      "00"  // tagged fields: none
    ))
  })

  it("v12 response (highest)", () => {
    const value: ResponseOf<typeof Metadata> = {
      throttleTimeMs: 0,
      brokers: [],
      clusterId: null,
      controllerId: -1,
      topics: [
        { errorCode: 100, name: null, topicId: U1, isInternal: false, partitions: [], topicAuthorizedOperations: NO_OPS },
        {
          errorCode: 0,
          name: "bar",
          topicId: U2,
          isInternal: false,
          partitions: [{
            errorCode: 0,
            partitionIndex: 1,
            leaderId: 2,
            leaderEpoch: 0,
            replicaNodes: [2],
            isrNodes: [2],
            offlineReplicas: []
          }],
          topicAuthorizedOperations: 248
        }
      ],
      clusterAuthorizedOperations: NO_OPS
    }
    response(Metadata, 12, value, hex(
      "00 00 00 00",    // throttle_time_ms: 0
      "01",             // brokers: empty
      "00",             // cluster_id: null
      "ff ff ff ff",    // controller_id: -1
      "03",             // topics: 2 elements
      "00 64",          //   error_code: 100 (UNKNOWN_TOPIC_ID)
      "00",             //   name: null
      U1_BYTES,         //   topic_id
      "00",             //   is_internal: false
      "01",             //   partitions: empty
      "80 00 00 00",    //   topic_authorized_operations: -2^31
      "00",             //   tagged fields: none
      "00 00",          //   error_code: 0
      "04 62 61 72",    //   name: "bar"
      U2_BYTES,         //   topic_id
      "00",             //   is_internal: false
      "02",             //   partitions: 1 element
      "00 00",          //     error_code: 0
      "00 00 00 01",    //     partition_index: 1
      "00 00 00 02",    //     leader_id: 2
      "00 00 00 00",    //     leader_epoch: 0
      "02 00 00 00 02", //     replica_nodes: [2]
      "02 00 00 00 02", //     isr_nodes: [2]
      "01",             //     offline_replicas: empty
      "00",             //     tagged fields: none
      "00 00 00 f8",    //   topic_authorized_operations: 248
      "00",             //   tagged fields: none
      "00"              // tagged fields: none (no cluster_authorized_operations after v10)
    ))
  })
})

// ---------------------------------------------------------------------------------------------------------

describe("Golden bytes: ListOffsets", () => {
  it("v0 request (lowest, classic)", () => {
    const value: RequestOf<typeof ListOffsets> = {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: "foo", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 5 }] }],
      timeoutMs: 0
    }
    request(ListOffsets, 0, value, hex(
      "ff ff ff ff",    // replica_id: -1
      "00 00 00 01",    // topics: 1 element
      "00 03 66 6f 6f", //   name: "foo"
      "00 00 00 01",    //   partitions: 1 element
      "00 00 00 00",    //     partition_index: 0
      "ff*8",           //     timestamp: -1 (latest)
      "00 00 00 05"     //     max_num_offsets: 5
    ))
  })

  it("v0 response (lowest, classic)", () => {
    const value: ResponseOf<typeof ListOffsets> = {
      throttleTimeMs: 0,
      topics: [{
        name: "foo",
        partitions: [{ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [42, 0], timestamp: -1, offset: -1, leaderEpoch: -1 }]
      }]
    }
    response(ListOffsets, 0, value, hex(
      "00 00 00 01",    // topics: 1 element
      "00 03 66 6f 6f", //   name: "foo"
      "00 00 00 01",    //   partitions: 1 element
      "00 00 00 00",    //     partition_index: 0
      "00 00",          //     error_code: 0
      "00 00 00 02",    //     old_style_offsets: 2 elements
      "00*7 2a",        //       42
      "00*8"            //       0
    ))
  })

  it("v6 request (first flexible)", () => {
    const value: RequestOf<typeof ListOffsets> = {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: "foo", partitions: [{ partitionIndex: 2, currentLeaderEpoch: 4, timestamp: -2, maxNumOffsets: 1 }] }],
      timeoutMs: 0
    }
    request(ListOffsets, 6, value, hex(
      "ff ff ff ff",             // replica_id: -1
      "01",                      // isolation_level: 1
      "02",                      // topics: 1 element
      "04 66 6f 6f",             //   name: "foo"
      "02",                      //   partitions: 1 element
      "00 00 00 02",             //     partition_index: 2
      "00 00 00 04",             //     current_leader_epoch: 4
      "ff ff ff ff ff ff ff fe", //     timestamp: -2 (earliest)
      "00",                      //     tagged fields: none
      "00",                      //   tagged fields: none
      "00"                       // tagged fields: none
    ))
  })

  it("v6 response (first flexible)", () => {
    const value: ResponseOf<typeof ListOffsets> = {
      throttleTimeMs: 0,
      topics: [{
        name: "foo",
        partitions: [{ partitionIndex: 2, errorCode: 0, oldStyleOffsets: [], timestamp: -1, offset: 17, leaderEpoch: 4 }]
      }]
    }
    response(ListOffsets, 6, value, hex(
      "00 00 00 00", // throttle_time_ms: 0
      "02",          // topics: 1 element
      "04 66 6f 6f", //   name: "foo"
      "02",          //   partitions: 1 element
      "00 00 00 02", //     partition_index: 2
      "00 00",       //     error_code: 0
      "ff*8",        //     timestamp: -1
      "00*7 11",     //     offset: 17
      "00 00 00 04", //     leader_epoch: 4
      "00",          //     tagged fields: none
      "00",          //   tagged fields: none
      "00"           // tagged fields: none
    ))
  })

  it("v8 request (highest)", () => {
    const value: RequestOf<typeof ListOffsets> = {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: "foo",
          partitions: [
            { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3, maxNumOffsets: 1 },
            { partitionIndex: 1, currentLeaderEpoch: 2, timestamp: 2 ** 40 + 2, maxNumOffsets: 1 }
          ]
        },
        { name: "bar", partitions: [] }
      ],
      timeoutMs: 0
    }
    request(ListOffsets, 8, value, hex(
      "ff ff ff ff",             // replica_id: -1
      "00",                      // isolation_level: 0
      "03",                      // topics: 2 elements
      "04 66 6f 6f",             //   name: "foo"
      "03",                      //   partitions: 2 elements
      "00 00 00 00",             //     partition_index: 0
      "ff ff ff ff",             //     current_leader_epoch: -1
      "ff ff ff ff ff ff ff fd", //     timestamp: -3 (max timestamp)
      "00",                      //     tagged fields: none
      "00 00 00 01",             //     partition_index: 1
      "00 00 00 02",             //     current_leader_epoch: 2
      "00 00 01 00 00 00 00 02", //     timestamp: 2^40 + 2
      "00",                      //     tagged fields: none
      "00",                      //   tagged fields: none
      "04 62 61 72",             //   name: "bar"
      "01",                      //   partitions: empty
      "00",                      //   tagged fields: none
      "00"                       // tagged fields: none
    ))
  })

  it("v8 response (highest)", () => {
    const value: ResponseOf<typeof ListOffsets> = {
      throttleTimeMs: 3,
      topics: [{
        name: "foo",
        partitions: [
          { partitionIndex: 0, errorCode: 0, oldStyleOffsets: [], timestamp: 2 ** 40 + 2, offset: 99, leaderEpoch: 2 },
          { partitionIndex: 1, errorCode: 3, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 }
        ]
      }]
    }
    response(ListOffsets, 8, value, hex(
      "00 00 00 03",             // throttle_time_ms: 3
      "02",                      // topics: 1 element
      "04 66 6f 6f",             //   name: "foo"
      "03",                      //   partitions: 2 elements
      "00 00 00 00",             //     partition_index: 0
      "00 00",                   //     error_code: 0
      "00 00 01 00 00 00 00 02", //     timestamp: 2^40 + 2
      "00*7 63",                 //     offset: 99
      "00 00 00 02",             //     leader_epoch: 2
      "00",                      //     tagged fields: none
      "00 00 00 01",             //     partition_index: 1
      "00 03",                   //     error_code: 3 (UNKNOWN_TOPIC_OR_PARTITION)
      "ff*8",                    //     timestamp: -1
      "ff*8",                    //     offset: -1
      "ff ff ff ff",             //     leader_epoch: -1
      "00",                      //     tagged fields: none
      "00",                      //   tagged fields: none
      "00"                       // tagged fields: none
    ))
  })
})

// ---------------------------------------------------------------------------------------------------------

describe("Golden bytes: ApiVersions", () => {
  const noFeatures = { supportedFeatures: [], finalizedFeaturesEpoch: -1, finalizedFeatures: [], zkMigrationReady: false }

  it("v0 request (lowest): an empty body", () => {
    request(ApiVersions, 0, { clientSoftwareName: "", clientSoftwareVersion: "" }, hex())
  })

  it("v0 response (lowest)", () => {
    const value: ResponseOf<typeof ApiVersions> = {
      errorCode: 35,
      apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 11 }, { apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      ...noFeatures
    }
    response(ApiVersions, 0, value, hex(
      "00 23",             // error_code: 35 (UNSUPPORTED_VERSION)
      "00 00 00 02",       // api_keys: 2 elements
      "00 00 00 03 00 0b", //   Produce 3-11
      "00 12 00 00 00 04"  //   ApiVersions 0-4
    ))
  })

  it("v3 request (first flexible) with request header v2", () => {
    const value: RequestOf<typeof ApiVersions> = { clientSoftwareName: "kc", clientSoftwareVersion: "1.0" }
    const body = [
      "03 6b 63",    // client_software_name: "kc"
      "04 31 2e 30", // client_software_version: "1.0"
      "00"           // tagged fields: none
    ]
    request(ApiVersions, 3, value, hex(...body))
    requestFrame(ApiVersions, { apiKey: 18, apiVersion: 3, correlationId: 7, clientId: "kc" }, value, hex(
      "00 12",       // header: request_api_key 18 (ApiVersions)
      "00 03",       // header: request_api_version 3
      "00 00 00 07", // header: correlation_id 7
      "00 02 6b 63", // header: client_id "kc"
      "00",          // header: tagged fields: none
      ...body
    ))
  })

  it("v3 response (first flexible) with response header v0", () => {
    const value: ResponseOf<typeof ApiVersions> = {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 100,
      supportedFeatures: [{ name: "mv", minVersion: 1, maxVersion: 20 }],
      finalizedFeaturesEpoch: 5,
      finalizedFeatures: [{ name: "mv", maxVersionLevel: 20, minVersionLevel: 1 }],
      zkMigrationReady: true
    }
    const body = [
      "00 00",             // error_code: 0
      "02",                // api_keys: 1 element
      "00 12 00 00 00 04", //   ApiVersions 0-4
      "00",                //   tagged fields: none
      "00 00 00 64",       // throttle_time_ms: 100
      "04",                // tagged fields: 4
      "00 09",             //   tag 0 (supported_features), 9 bytes
      "02",                //     1 element
      "03 6d 76",          //       name: "mv"
      "00 01",             //       min_version: 1
      "00 14",             //       max_version: 20
      "00",                //       tagged fields: none
      "01 08",             //   tag 1 (finalized_features_epoch), 8 bytes
      "00*7 05",           //     5
      "02 09",             //   tag 2 (finalized_features), 9 bytes
      "02",                //     1 element
      "03 6d 76",          //       name: "mv"
      "00 14",             //       max_version_level: 20
      "00 01",             //       min_version_level: 1
      "00",                //       tagged fields: none
      "03 01",             //   tag 3 (zk_migration_ready), 1 byte
      "01"                 //     true
    ]
    response(ApiVersions, 3, value, hex(...body))
    // ApiVersions answers with response header v0 in every version, flexible ones included: a client reads
    // it before it knows which versions the broker speaks. So no tagged-field byte after the correlation id.
    responseFrame(ApiVersions, 3, false, 7, value, hex(
      "00 00 00 07", // header v0: correlation_id 7
      ...body
    ))
  })

  it("v4 request (highest)", () => {
    const value: RequestOf<typeof ApiVersions> = { clientSoftwareName: "franz-go", clientSoftwareVersion: "1.18" }
    request(ApiVersions, 4, value, hex(
      "09 66 72 61 6e 7a 2d 67 6f", // client_software_name: "franz-go"
      "05 31 2e 31 38",             // client_software_version: "1.18"
      "00"                          // tagged fields: none
    ))
  })

  it("v4 response (highest)", () => {
    const value: ResponseOf<typeof ApiVersions> = {
      errorCode: 0,
      apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 11 }, { apiKey: 75, minVersion: 0, maxVersion: 0 }],
      throttleTimeMs: 0,
      ...noFeatures,
      finalizedFeaturesEpoch: 0x0102030405
    }
    response(ApiVersions, 4, value, hex(
      "00 00",                   // error_code: 0
      "03",                      // api_keys: 2 elements
      "00 00 00 03 00 0b",       //   Produce 3-11
      "00",                      //   tagged fields: none
      "00 4b 00 00 00 00",       //   DescribeTopicPartitions 0-0
      "00",                      //   tagged fields: none
      "00 00 00 00",             // throttle_time_ms: 0
      "01",                      // tagged fields: 1 (the others hold their defaults)
      "01 08",                   //   tag 1 (finalized_features_epoch), 8 bytes
      "00 00 00 01 02 03 04 05"  //     0x0102030405
    ))
  })
})

// ---------------------------------------------------------------------------------------------------------

describe("Golden bytes: DescribeTopicPartitions", () => {
  it("v0 request (only version, flexible)", () => {
    const value: RequestOf<typeof DescribeTopicPartitions> = {
      topics: [{ name: "foo" }, { name: "bar" }],
      responsePartitionLimit: 100,
      cursor: { topicName: "foo", partitionIndex: 3 }
    }
    request(DescribeTopicPartitions, 0, value, hex(
      "03",          // topics: 2 elements
      "04 66 6f 6f", //   name: "foo"
      "00",          //   tagged fields: none
      "04 62 61 72", //   name: "bar"
      "00",          //   tagged fields: none
      "00 00 00 64", // response_partition_limit: 100
      "01",          // cursor: present
      "04 66 6f 6f", //   topic_name: "foo"
      "00 00 00 03", //   partition_index: 3
      "00",          //   tagged fields: none
      "00"           // tagged fields: none
    ))
  })

  it("v0 request with a null cursor", () => {
    const value: RequestOf<typeof DescribeTopicPartitions> = {
      topics: [],
      responsePartitionLimit: 2000,
      cursor: null
    }
    request(DescribeTopicPartitions, 0, value, hex(
      "01",          // topics: empty
      "00 00 07 d0", // response_partition_limit: 2000
      "ff",          // cursor: null
      "00"           // tagged fields: none
    ))
  })

  it("v0 response (only version, flexible)", () => {
    const value: ResponseOf<typeof DescribeTopicPartitions> = {
      throttleTimeMs: 0,
      topics: [
        {
          errorCode: 0,
          name: "foo",
          topicId: U1,
          isInternal: false,
          partitions: [{
            errorCode: 0,
            partitionIndex: 3,
            leaderId: 1,
            leaderEpoch: 4,
            replicaNodes: [1, 2],
            isrNodes: [1],
            eligibleLeaderReplicas: null,
            lastKnownElr: [2],
            offlineReplicas: []
          }],
          topicAuthorizedOperations: 248
        },
        { errorCode: 100, name: null, topicId: U2, isInternal: false, partitions: [], topicAuthorizedOperations: NO_OPS }
      ],
      nextCursor: { topicName: "foo", partitionIndex: 4 }
    }
    response(DescribeTopicPartitions, 0, value, hex(
      "00 00 00 00",                // throttle_time_ms: 0
      "03",                         // topics: 2 elements
      "00 00",                      //   error_code: 0
      "04 66 6f 6f",                //   name: "foo"
      U1_BYTES,                     //   topic_id
      "00",                         //   is_internal: false
      "02",                         //   partitions: 1 element
      "00 00",                      //     error_code: 0
      "00 00 00 03",                //     partition_index: 3
      "00 00 00 01",                //     leader_id: 1
      "00 00 00 04",                //     leader_epoch: 4
      "03 00 00 00 01 00 00 00 02", //     replica_nodes: [1, 2]
      "02 00 00 00 01",             //     isr_nodes: [1]
      "00",                         //     eligible_leader_replicas: null
      "02 00 00 00 02",             //     last_known_elr: [2]
      "01",                         //     offline_replicas: empty
      "00",                         //     tagged fields: none
      "00 00 00 f8",                //   topic_authorized_operations: 248
      "00",                         //   tagged fields: none
      "00 64",                      //   error_code: 100 (UNKNOWN_TOPIC_ID)
      "00",                         //   name: null
      U2_BYTES,                     //   topic_id
      "00",                         //   is_internal: false
      "01",                         //   partitions: empty
      "80 00 00 00",                //   topic_authorized_operations: -2^31
      "00",                         //   tagged fields: none
      "01",                         // next_cursor: present
      "04 66 6f 6f",                //   topic_name: "foo"
      "00 00 00 04",                //   partition_index: 4
      "00",                         //   tagged fields: none
      "00"                          // tagged fields: none
    ))
  })
})

// ---------------------------------------------------------------------------------------------------------

describe("Golden bytes: EndTxn", () => {
  it("v0 request (lowest, classic) with request header v1", () => {
    const value: RequestOf<typeof EndTxn> = { transactionalId: "tx", producerId: 2 ** 40 + 5, producerEpoch: 2, committed: true }
    const body = [
      "00 02 74 78",             // transactional_id: "tx"
      "00 00 01 00 00 00 00 05", // producer_id: 2^40 + 5
      "00 02",                   // producer_epoch: 2
      "01"                       // committed: true
    ]
    request(EndTxn, 0, value, hex(...body))
    requestFrame(EndTxn, { apiKey: 26, apiVersion: 0, correlationId: 9, clientId: "cli" }, value, hex(
      "00 1a",          // header: request_api_key 26 (EndTxn)
      "00 00",          // header: request_api_version 0
      "00 00 00 09",    // header: correlation_id 9
      "00 03 63 6c 69", // header: client_id "cli" (header v1: no tagged fields)
      ...body
    ))
  })

  it("v0 response (lowest, classic) with response header v0", () => {
    const value: ResponseOf<typeof EndTxn> = { throttleTimeMs: 0, errorCode: 48, producerId: -1, producerEpoch: -1 }
    const body = [
      "00 00 00 00", // throttle_time_ms: 0
      "00 30"        // error_code: 48 (INVALID_TXN_STATE); producer_id and producer_epoch are v5+
    ]
    response(EndTxn, 0, value, hex(...body))
    responseFrame(EndTxn, 0, false, 9, value, hex(
      "00 00 00 09", // header v0: correlation_id 9
      ...body
    ))
  })

  it("v5 request (highest, flexible) with request header v2", () => {
    const value: RequestOf<typeof EndTxn> = { transactionalId: "tx", producerId: 2 ** 40 + 5, producerEpoch: 3, committed: false }
    const body = [
      "03 74 78",                // transactional_id: "tx" (compact)
      "00 00 01 00 00 00 00 05", // producer_id: 2^40 + 5
      "00 03",                   // producer_epoch: 3
      "00",                      // committed: false
      "00"                       // tagged fields: none
    ]
    request(EndTxn, 5, value, hex(...body))
    requestFrame(EndTxn, { apiKey: 26, apiVersion: 5, correlationId: 10, clientId: "cli" }, value, hex(
      "00 1a",          // header: request_api_key 26 (EndTxn)
      "00 05",          // header: request_api_version 5
      "00 00 00 0a",    // header: correlation_id 10
      "00 03 63 6c 69", // header: client_id "cli"
      "00",             // header: tagged fields: none
      ...body
    ))
  })

  it("v5 response (highest, flexible) with response header v1", () => {
    const value: ResponseOf<typeof EndTxn> = { throttleTimeMs: 100, errorCode: 0, producerId: 2 ** 40 + 5, producerEpoch: 4 }
    const body = [
      "00 00 00 64",             // throttle_time_ms: 100
      "00 00",                   // error_code: 0
      "00 00 01 00 00 00 00 05", // producer_id: 2^40 + 5
      "00 04",                   // producer_epoch: 4 (bumped by the commit)
      "00"                       // tagged fields: none
    ]
    response(EndTxn, 5, value, hex(...body))
    responseFrame(EndTxn, 5, true, 10, value, hex(
      "00 00 00 0a", // header: correlation_id 10
      "00",          // header v1: tagged fields: none
      ...body
    ))
  })
})

// ---------------------------------------------------------------------------------------------------------

describe("Golden bytes: AddPartitionsToTxn", () => {
  const noTopLevel = { v3AndBelowTransactionalId: "", v3AndBelowProducerId: 0, v3AndBelowProducerEpoch: 0, v3AndBelowTopics: [] }

  it("v3 request (first flexible, one transaction batched by topic)", () => {
    const value: RequestOf<typeof AddPartitionsToTxn> = {
      transactions: [],
      v3AndBelowTransactionalId: "tx",
      v3AndBelowProducerId: 2 ** 40 + 5,
      v3AndBelowProducerEpoch: 1,
      v3AndBelowTopics: [{ name: "foo", partitions: [0, 2] }, { name: "bar", partitions: [] }]
    }
    request(AddPartitionsToTxn, 3, value, hex(
      "03 74 78",                   // v3_and_below_transactional_id: "tx"
      "00 00 01 00 00 00 00 05",    // v3_and_below_producer_id: 2^40 + 5
      "00 01",                      // v3_and_below_producer_epoch: 1
      "03",                         // v3_and_below_topics: 2 elements
      "04 66 6f 6f",                //   name: "foo"
      "03 00 00 00 00 00 00 00 02", //   partitions: [0, 2]
      "00",                         //   tagged fields: none
      "04 62 61 72",                //   name: "bar"
      "01",                         //   partitions: empty
      "00",                         //   tagged fields: none
      "00"                          // tagged fields: none
    ))
  })

  it("v4 request (batched transactions)", () => {
    const value: RequestOf<typeof AddPartitionsToTxn> = {
      transactions: [
        { transactionalId: "tx", producerId: 2 ** 40 + 5, producerEpoch: 1, verifyOnly: true, topics: [{ name: "foo", partitions: [1] }] },
        { transactionalId: "t2", producerId: 7, producerEpoch: 0, verifyOnly: false, topics: [] }
      ],
      ...noTopLevel
    }
    request(AddPartitionsToTxn, 4, value, hex(
      "03",                      // transactions: 2 elements
      "03 74 78",                //   transactional_id: "tx"
      "00 00 01 00 00 00 00 05", //   producer_id: 2^40 + 5
      "00 01",                   //   producer_epoch: 1
      "01",                      //   verify_only: true
      "02",                      //   topics: 1 element
      "04 66 6f 6f",             //     name: "foo"
      "02 00 00 00 01",          //     partitions: [1]
      "00",                      //     tagged fields: none
      "00",                      //   tagged fields: none
      "03 74 32",                //   transactional_id: "t2"
      "00*7 07",                 //   producer_id: 7
      "00 00",                   //   producer_epoch: 0
      "00",                      //   verify_only: false
      "01",                      //   topics: empty
      "00",                      //   tagged fields: none
      "00"                       // tagged fields: none (the v3-and-below fields are absent)
    ))
  })
})
