// The transaction coordinator's state as Kafka keeps it in `__transaction_state`: keyed records whose key is
// TransactionLogKey (version 0: the transactional id) and whose value is TransactionLogValue (version 0, or
// the flexible version 1 whose tagged fields carry the previous and next producer ids and the client's
// transaction version), or null (a tombstone: the id expired). Each key and value starts with its int16
// version. States are stored by number: 0 Empty, 1 Ongoing, 2 PrepareCommit, 3 PrepareAbort,
// 4 CompleteCommit, 5 CompleteAbort, 6 Dead, 7 PrepareEpochFence.
import { ByteReader, ByteWriter, MalformedInput } from "./Bytes.ts"
import { array, codec, field, int16, int32, int64, int8, string, struct, tagged, type TypeOf } from "./Message.ts"

const TransactionLogKey = struct({
  transactionalId: field(string)
})

const TransactionLogValue = struct({
  producerId: field(int64),
  previousProducerId: tagged(0, int64, "1+", { default: -1 }),
  nextProducerId: tagged(1, int64, "1+", { default: -1 }),
  producerEpoch: field(int16),
  transactionTimeoutMs: field(int32),
  transactionStatus: field(int8),
  transactionPartitions: field(array(struct({
    topic: field(string),
    partitionIds: field(array(int32))
  })), "0+", { nullable: "0+" }),
  transactionLastUpdateTimestampMs: field(int64),
  transactionStartTimestampMs: field(int64),
  clientTransactionVersion: tagged(2, int16, "1+", { default: 0 })
})

export type TransactionLogValue = TypeOf<typeof TransactionLogValue>

const KEY_VERSION = 0
/** The flexible version: the producer ids of KIP-890's epoch bumps need its tagged fields. */
const VALUE_VERSION = 1

export const encodeTransactionKey = (transactionalId: string): Uint8Array => {
  const w = new ByteWriter(8 + transactionalId.length * 3)
  w.int16(KEY_VERSION)
  codec(TransactionLogKey, KEY_VERSION, false).write(w, { transactionalId })
  return w.toBytes()
}

export const encodeTransactionValue = (value: TransactionLogValue): Uint8Array => {
  const w = new ByteWriter(128)
  w.int16(VALUE_VERSION)
  codec(TransactionLogValue, VALUE_VERSION, true).write(w, value)
  return w.toBytes()
}

/** The transactional id of a record key, or undefined for keys of other versions. */
export const decodeTransactionKey = (bytes: Uint8Array): string | undefined => {
  const r = new ByteReader(bytes)
  const version = r.int16()
  return version === KEY_VERSION ? codec(TransactionLogKey, KEY_VERSION, false).read(r).transactionalId : undefined
}

export const decodeTransactionValue = (bytes: Uint8Array): TransactionLogValue => {
  const r = new ByteReader(bytes)
  const version = r.int16()
  if (version !== 0 && version !== 1) throw new MalformedInput(`transaction log value version ${version}`)
  return codec(TransactionLogValue, version, version >= 1).read(r)
}
