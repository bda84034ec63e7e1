// Transaction markers as Kafka writes them into partitions: a control batch (attributes: control and
// transactional bits) of the transaction's producer id and epoch, no sequence, holding one control record whose
// key is (version int16 = 0, type int16: 0 ABORT, 1 COMMIT) and whose value is the EndTransactionMarker
// (version int16 = 0, coordinator epoch int32). Clients skip control batches; read_committed consumers use
// the ABORT markers to drop an aborted transaction's records. The KRaft snapshot header and footer follow.
import { ByteReader, ByteWriter } from "./Bytes.ts"
import { codec, field, int16, int64, struct } from "./Message.ts"
import { CONTROL, decodeRecords, encodeBatch, readHeader, TRANSACTIONAL } from "./RecordBatch.ts"

export const ABORT = 0
export const COMMIT = 1

export interface Marker {
  readonly producerId: number
  readonly producerEpoch: number
  readonly commit: boolean
  readonly coordinatorEpoch: number
}

/** The control batch of a transaction marker. */
export const markerBatch = (marker: Marker, timestamp: number): Uint8Array => {
  const key = new ByteWriter(4)
  key.int16(0)
  key.int16(marker.commit ? COMMIT : ABORT)
  const value = new ByteWriter(6)
  value.int16(0)
  value.int32(marker.coordinatorEpoch)
  return encodeBatch([{ key: key.toBytes(), value: value.toBytes(), timestamp }], {
    attributes: CONTROL | TRANSACTIONAL,
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    baseSequence: -1,
    timestamp
  })
}

/**
 * The marker a control batch holds (its header already validated), or undefined when it holds none that is a
 * transaction marker (an empty control batch, or a control record of another type).
 */
export const readMarker = (batch: Uint8Array): Marker | undefined => {
  const header = readHeader(batch)
  if ((header.attributes & CONTROL) === 0) return undefined
  const record = decodeRecords(batch)[0]
  if (record === undefined || record.key === null || record.key.length < 4) return undefined
  const type = new ByteReader(record.key).int16() === 0 ? new ByteReader(record.key, 2).int16() : -1
  if (type !== ABORT && type !== COMMIT) return undefined
  const coordinatorEpoch = record.value !== null && record.value.length >= 6 ? new ByteReader(record.value, 2).int32() : -1
  return { producerId: header.producerId, producerEpoch: header.producerEpoch, commit: type === COMMIT, coordinatorEpoch }
}

// ---------------------------------------------------------------------------------------------------------
// KRaft snapshot bounds: a snapshot file opens with a control batch holding a SnapshotHeaderRecord (type 3) and
// closes with one holding a SnapshotFooterRecord (type 4). The key is the control key above; the value is the
// record in flexible encoding, version 0 (no version prefix, an empty tagged-field section).

export const SNAPSHOT_HEADER = 3
export const SNAPSHOT_FOOTER = 4

export const SnapshotHeaderRecord = struct({
  version: field(int16),
  /** The append time of the last log record the snapshot contains. */
  lastContainedLogTimestamp: field(int64)
})

export const SnapshotFooterRecord = struct({
  version: field(int16)
})

const controlKey = (type: number): Uint8Array => {
  const key = new ByteWriter(4)
  key.int16(0)
  key.int16(type)
  return key.toBytes()
}

export interface SnapshotBoundOptions {
  readonly baseOffset: number
  /** The snapshot's epoch, stored as each batch's partitionLeaderEpoch. */
  readonly epoch: number
  readonly timestamp: number
}

const controlBatch = (type: number, value: Uint8Array, options: SnapshotBoundOptions): Uint8Array =>
  encodeBatch([{ key: controlKey(type), value }], {
    baseOffset: options.baseOffset,
    partitionLeaderEpoch: options.epoch,
    attributes: CONTROL,
    timestamp: options.timestamp
  })

export const snapshotHeaderBatch = (lastContainedLogTimestamp: number, options: SnapshotBoundOptions): Uint8Array => {
  const w = new ByteWriter(16)
  codec(SnapshotHeaderRecord, 0, true).write(w, { version: 0, lastContainedLogTimestamp })
  return controlBatch(SNAPSHOT_HEADER, w.toBytes(), options)
}

export const snapshotFooterBatch = (options: SnapshotBoundOptions): Uint8Array => {
  const w = new ByteWriter(8)
  codec(SnapshotFooterRecord, 0, true).write(w, { version: 0 })
  return controlBatch(SNAPSHOT_FOOTER, w.toBytes(), options)
}

/** The type of a control batch's first record (its header already validated); undefined for a data batch. */
export const controlType = (batch: Uint8Array): number | undefined => {
  if ((readHeader(batch).attributes & CONTROL) === 0) return undefined
  const key = decodeRecords(batch)[0]?.key
  if (key === null || key === undefined || key.length < 4) return undefined
  const r = new ByteReader(key)
  return r.int16() === 0 ? r.int16() : undefined
}
