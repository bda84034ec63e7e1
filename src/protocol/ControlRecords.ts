// Transaction markers as Kafka writes them into partitions: a control batch (attributes: control and
// transactional bits) of the transaction's producer id and epoch, no sequence, holding one control record whose
// key is (version int16 = 0, type int16: 0 ABORT, 1 COMMIT) and whose value is the EndTransactionMarker
// (version int16 = 0, coordinator epoch int32). Clients skip control batches; read_committed consumers use
// the ABORT markers to drop an aborted transaction's records.
import { ByteReader, ByteWriter } from "./Bytes.ts"
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
