// Compaction of the partition logs in PostgreSQL, Kafka's log cleaner with the file store's decisions
// (services/log/Cleaner.ts): a batch is the unit a segment is for files. For each compacted partition dirty
// enough (below its last batch, which is never cleaned, the last stable offset and min.compaction.lag.ms), the key
// map is built over the dirty batches, then every batch from the log start up to where the map reaches is cleaned
// by the pure core: batches kept whole stay as they are, rewritten ones are updated in place (same base and last
// offset), emptied ones deleted (a producer's last batch stays, emptied), and the aborted transactions whose
// markers went are forgotten. Batches are read without the partition's lock; the changes are applied in one
// transaction holding it (appends go on meanwhile: they only add batches after the cleaned range). Where the clean
// ended is the partition's cleaned_offset.
//
// Reads skip batches emptied by a clean (record_count 0), so a client never gets a batch with no record to move
// past; the last batch of a log is never cleaned, so a read never ends on them.
//
// The decisions read the partition's batch metadata (offsets, sizes, timestamps) in full: fine for the sizes
// compacted logs have here, to be bounded by a summary table if they grow large.
import { createHash } from "node:crypto"
import { Clock, Effect } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { AbortedTxn } from "../../protocol/logdir/LogFiles.ts"
import { readHeader } from "../../protocol/RecordBatch.ts"
import type { BrokerConfigShape } from "../../services/config/BrokerConfig.ts"
import * as Core from "../../services/log/Cleaner.ts"
import { type CleanStats, partitionName, type TopicPartition } from "../../services/log/LogStore.ts"
import type { LogSettings } from "../../services/log/Partition.ts"

/** Long keys are told apart by their MD5, as Kafka's cleaner tells every key. */
const md5 = (key: Uint8Array) => createHash("md5").update(key).digest("base64")

/** Batches read per query while mapping and cleaning. */
const CHUNK = 200

const num = (v: unknown): number => (v === null || v === undefined ? -1 : Number(v))
const bytesOf = (v: unknown): Uint8Array =>
  v instanceof Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(0)

interface BatchMeta {
  readonly base: number
  readonly last: number
  readonly size: number
  readonly maxTimestamp: number
}

/** What of a partition may be cleaned now (Core.cleanable, over batches). */
const cleanableOf = (
  batches: ReadonlyArray<BatchMeta>,
  logStart: number,
  stable: number,
  checkpoint: number,
  s: LogSettings,
  now: number
): Core.Cleanable => {
  const activeBase = batches[batches.length - 1]!.base
  const firstDirty = checkpoint < logStart || checkpoint > activeBase ? logStart : checkpoint
  let firstUncleanable = Math.min(activeBase, stable)
  if (s.minCompactionLagMs > 0) {
    for (const b of batches) {
      if (b.base >= firstUncleanable) break
      if (b.last >= firstDirty && (b.maxTimestamp < 0 || b.maxTimestamp > now - s.minCompactionLagMs)) {
        firstUncleanable = Math.max(firstDirty, b.base)
        break
      }
    }
  }
  let cleanBytes = 0
  let dirtyBytes = 0
  let firstTimestamp = -1
  for (const b of batches) {
    if (b.base >= firstUncleanable || b.last < logStart) continue
    if (b.last < firstDirty) cleanBytes += b.size
    else {
      if (dirtyBytes === 0) firstTimestamp = b.maxTimestamp
      dirtyBytes += b.size
    }
  }
  const total = cleanBytes + dirtyBytes
  const forced = dirtyBytes > 0 && Number.isFinite(s.maxCompactionLagMs) && firstTimestamp >= 0 && now - firstTimestamp > s.maxCompactionLagMs
  return { firstDirty, firstUncleanable, cleanBytes, dirtyBytes, ratio: total === 0 ? 0 : dirtyBytes / total, forced }
}

/** Cleans the partition if it is dirty enough; answers what the clean did, or undefined when it was not due. */
export const cleanPartition = (sql: SqlClient, config: BrokerConfigShape, tp: TopicPartition, s: LogSettings) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const rows = yield* sql`SELECT p.id, p.log_start_offset, p.next_offset, p.cleaned_offset, p.deleted,
        (SELECT min(o.txn_first_offset) FROM log_producers o WHERE o.partition_id = p.id AND o.txn_first_offset >= 0) AS first_unstable,
        (SELECT max(b.base_offset) FROM log_batches b WHERE b.partition_id = p.id) AS last_base
      FROM log_partitions p WHERE p.topic = ${tp.topic} AND p.partition = ${tp.partition}`
    const row = rows[0]
    if (row === undefined || row.deleted === true) return undefined
    // Nothing written below the last batch since the last clean: no need to look at the batches.
    if (row.last_base === null || num(row.cleaned_offset) >= num(row.last_base)) return undefined
    const id = num(row.id)
    const logStart = num(row.log_start_offset)
    const unstable = num(row.first_unstable)
    const stable = Math.max(logStart, unstable >= 0 ? unstable : num(row.next_offset))
    const metas = (yield* sql`SELECT base_offset, last_offset, size, max_timestamp FROM log_batches
      WHERE partition_id = ${id} ORDER BY base_offset`).map((r): BatchMeta => ({
        base: num(r.base_offset),
        last: num(r.last_offset),
        size: num(r.size),
        maxTimestamp: num(r.max_timestamp)
      }))
    if (metas.length < 2) return undefined
    const now = yield* Clock.currentTimeMillis
    const c = cleanableOf(metas, logStart, stable, num(row.cleaned_offset), s, now)
    if (!Core.needsCleaning(c, s)) return undefined

    const aborted: Array<AbortedTxn> = (yield* sql`SELECT producer_id, first_offset, last_offset FROM log_aborted
      WHERE partition_id = ${id} ORDER BY first_offset`).map((r) => ({
        producerId: num(r.producer_id),
        firstOffset: num(r.first_offset),
        lastOffset: num(r.last_offset),
        lastStableOffset: -1
      }))
    /** The batches with base offsets in [from, to), in order, a chunk at a time. */
    const forEachBatch = (from: number, to: number, f: (batch: Uint8Array) => boolean) =>
      Effect.gen(function*() {
        let at = from
        for (;;) {
          const chunk = yield* sql`SELECT base_offset, bytes FROM log_batches
            WHERE partition_id = ${id} AND base_offset >= ${at} AND base_offset < ${to} ORDER BY base_offset LIMIT ${CHUNK}`
          for (const r of chunk) if (!f(bytesOf(r.bytes))) return
          if (chunk.length < CHUNK) return
          at = num(chunk[chunk.length - 1]!.base_offset) + 1
        }
      })

    // The key map over the dirty batches, as far as it fits.
    const map = new Core.OffsetMap(config.logCleanerDedupeBufferSize, md5)
    const mapTxns = new Core.TxnTracker(aborted.filter((a) => a.lastOffset >= c.firstDirty && a.firstOffset < c.firstUncleanable))
    let full = false
    const dirtyFrom = metas.find((b) => b.last >= c.firstDirty)?.base ?? c.firstDirty
    yield* forEachBatch(dirtyFrom, c.firstUncleanable, (batch) => {
      full = !Core.mapBatch(map, mapTxns, batch, c.firstDirty, c.firstUncleanable)
      return !full
    })
    if (!full) map.updateLatestOffset(c.firstUncleanable - 1)
    const end = map.latestOffset + 1
    if (end <= c.firstDirty) {
      yield* Effect.logWarning(`log cleaner: ${partitionName(tp)}: log.cleaner.dedupe.buffer.size holds too few keys for one batch; not cleaned`)
      return undefined
    }

    // Each producer's last data batch stays, if only emptied: its last sequence survives.
    const lastDataOffsets = new Map<number, number>()
    for (const r of yield* sql`SELECT producer_id, batches FROM log_producers WHERE partition_id = ${id}`) {
      const last = (JSON.parse(String(r.batches)) as Array<[number, number, number, number]>).at(-1)
      if (last !== undefined) lastDataOffsets.set(num(r.producer_id), last[3])
    }
    const txns = new Core.TxnTracker(aborted.filter((a) => a.firstOffset < end))
    const ctx: Core.CleanContext = { map, txns, now, deleteRetentionMs: s.deleteRetentionMs, lastDataOffsets }
    const totals = { bytesRead: 0, bytesWritten: 0, recordsRead: 0, recordsKept: 0 }
    const removed: Array<number> = []
    const rewritten: Array<Uint8Array> = []
    let before = 0
    yield* forEachBatch(metas[0]!.base, end, (batch) => {
      const result = Core.cleanBatch(ctx, batch)
      before++
      totals.bytesRead += batch.length
      totals.recordsRead += result.recordsRead
      totals.recordsKept += result.recordsKept
      if (result.bytes === undefined) removed.push(readHeader(batch).baseOffset)
      else {
        totals.bytesWritten += result.bytes.length
        if (result.bytes !== batch) rewritten.push(result.bytes.slice())
      }
      return true
    })
    const kept = new Set(txns.kept.map((a) => a.lastOffset))
    const forgotten = aborted.filter((a) => a.lastOffset < end && !kept.has(a.lastOffset)).map((a) => a.lastOffset)

    yield* sql.withTransaction(Effect.gen(function*() {
      const locked = yield* sql`SELECT deleted FROM log_partitions WHERE id = ${id} FOR UPDATE`
      if (locked.length === 0 || locked[0]!.deleted === true) return
      if (removed.length > 0) yield* sql`DELETE FROM log_batches WHERE partition_id = ${id} AND base_offset = ANY(${removed}::int8[])`
      for (const bytes of rewritten) {
        const h = readHeader(bytes)
        yield* sql`UPDATE log_batches SET bytes = ${bytes}, size = ${bytes.length}, record_count = ${h.recordCount},
            max_timestamp = ${h.maxTimestamp} WHERE partition_id = ${id} AND base_offset = ${h.baseOffset}`
      }
      if (forgotten.length > 0) yield* sql`DELETE FROM log_aborted WHERE partition_id = ${id} AND last_offset = ANY(${forgotten}::int8[])`
      yield* sql`UPDATE log_partitions SET cleaned_offset = ${end},
          size_bytes = (SELECT coalesce(sum(size), 0) FROM log_batches WHERE partition_id = ${id}) WHERE id = ${id}`
    }))
    const ms = (yield* Clock.currentTimeMillis) - started
    const stats: CleanStats = {
      tp,
      firstDirty: c.firstDirty,
      end,
      ...totals,
      segmentsBefore: before,
      segmentsAfter: before - removed.length,
      ms
    }
    yield* Effect.logInfo(
      `log cleaner: ${partitionName(tp)}: cleaned [${c.firstDirty}, ${end}) in ${ms} ms: ${stats.recordsKept} of ${stats.recordsRead} records kept, ` +
        `${stats.segmentsBefore} batches into ${stats.segmentsAfter}`
    )
    return stats
  })
