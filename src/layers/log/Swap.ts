// Replacing segments by a cleaned one, crash-safe in Kafka's way. The cleaned segment is written beside the
// originals as `.cleaned` files and fsynced; then renamed to `.swap` (its indexes first, its log last); the
// replaced segments' files are renamed to `.deleted` (removed after `file.delete.delay.ms`); then the `.swap`
// files take their final names (the log last). At start, before a partition is loaded, whatever a crash left is
// settled: `.cleaned` and `.deleted` files go, and a `.log.swap` (complete, since it is renamed only once
// written) replaces every segment its offsets cover, then takes its final name. So a crash at any step leaves
// the old segments or the new one, never a mix and never a loss.
import { Duration, Effect, type FileSystem } from "effect"
import type { PlatformError } from "effect/PlatformError"
import {
  CLEANED,
  DELETED,
  fileOffset,
  indexFile,
  segmentFile,
  segmentFiles,
  SWAP,
  timeIndexFile,
  txnIndexFile
} from "../../protocol/logdir/LogFiles.ts"
import { HEADER_SIZE } from "../../protocol/RecordBatch.ts"
import type { Partition } from "../../services/log/Partition.ts"
import { emptyIndexes, encodeIndexes, indexBatch, newSegment, seal, type Segment, validHeader } from "../../services/log/Segment.ts"
import type { LogDir } from "./LogDir.ts"
import { readBytes } from "./SegmentIO.ts"

const ignoreMissing = <A>(effect: Effect.Effect<A, PlatformError>) =>
  effect.pipe(Effect.catchIf((e) => e.reason._tag === "NotFound", () => Effect.void))

/** Renames the files of segment `base` with suffix `from` to suffix `to` (missing ones are skipped), the log last. */
const renameAll = (fs: FileSystem.FileSystem, dir: string, base: number, from: string, to: string) =>
  Effect.forEach(segmentFiles(base), (name) => ignoreMissing(fs.rename(`${dir}/${name}${from}`, `${dir}/${name}${to}`)), { discard: true })

/**
 * Puts the cleaned segment `cleaned` (its `.cleaned` files written and fsynced) in place of `replaced`, in the
 * partition's list too; the caller holds the partition's lock. The replaced segments stay readable for reads
 * already under way until their files close.
 */
export const swapIn = (dir: LogDir, p: Partition, replaced: ReadonlyArray<Segment>, cleaned: Segment, deleteDelayMs: number) =>
  Effect.gen(function*() {
    const { fs } = dir
    yield* renameAll(fs, p.dir, cleaned.baseOffset, CLEANED, SWAP)
    for (const s of replaced) yield* renameAll(fs, p.dir, s.baseOffset, "", DELETED)
    yield* renameAll(fs, p.dir, cleaned.baseOffset, SWAP, "")
    const at = p.segments.indexOf(replaced[0]!)
    p.segments.splice(at, replaced.length, cleaned)
    for (const s of replaced) {
      p.unflushed.delete(s)
      yield* dir.files.retire(s)
    }
    const names = replaced.flatMap((s) => segmentFiles(s.baseOffset).map((name) => `${p.dir}/${name}${DELETED}`))
    const removal = Effect.forEach(names, (path) => fs.remove(path, { force: true }), { discard: true }).pipe(Effect.ignore)
    yield* Effect.forkIn(Effect.andThen(Effect.sleep(Duration.millis(deleteDelayMs)), removal), dir.scope)
  })

/** Removes the `.cleaned` files of a clean given up (the partition changed under it). */
export const discardCleaned = (dir: LogDir, p: Partition, base: number) =>
  Effect.forEach(segmentFiles(base), (name) => dir.fs.remove(`${p.dir}/${name}${CLEANED}`, { force: true }), { discard: true })

/**
 * The offset and time indexes of a segment file, rebuilt by walking its batch headers, and its last offset (-1:
 * no batch). A swapped-in segment's index files cannot be told from the replaced one's after a crash.
 */
const reindex = (fs: FileSystem.FileSystem, dir: string, base: number, path: string, indexIntervalBytes: number) =>
  Effect.scoped(Effect.gen(function*() {
    const file = yield* fs.open(path, { flag: "r" })
    const s = newSegment(dir, base)
    s.size = Number((yield* file.stat).size)
    emptyIndexes(s)
    let position = 0
    let last = -1
    while (position + HEADER_SIZE <= s.size) {
      const header = validHeader(yield* readBytes(file, position, HEADER_SIZE), 0, position, s.size)
      if (header === undefined) break
      indexBatch(s, header, position, indexIntervalBytes)
      last = header.baseOffset + header.lastOffsetDelta
      position += header.size
    }
    seal(s)
    return { last, indexes: encodeIndexes(s)! }
  }))

/**
 * Settles what a crash during a clean left in a partition directory (its listing given), before it is loaded;
 * answers the listing after.
 */
export const settleLeftovers = (fs: FileSystem.FileSystem, path: string, listing: ReadonlyArray<string>, indexIntervalBytes: number) =>
  Effect.gen(function*() {
    if (!listing.some((f) => f.endsWith(CLEANED) || f.endsWith(SWAP) || f.endsWith(DELETED))) return listing
    for (const f of listing) if (f.endsWith(CLEANED) || f.endsWith(DELETED)) yield* fs.remove(`${path}/${f}`, { force: true })
    for (const f of listing) {
      const base = f.endsWith(SWAP) ? fileOffset(f.slice(0, -SWAP.length), "log") : undefined
      if (base === undefined) continue
      const { last, indexes } = yield* reindex(fs, path, base, `${path}/${f}`, indexIntervalBytes)
      // Every segment the cleaned one covers was replaced by it.
      for (const g of listing) {
        const other = fileOffset(g, "log")
        if (other === undefined || other <= base || other > last) continue
        for (const name of segmentFiles(other)) yield* fs.remove(`${path}/${name}`, { force: true })
      }
      yield* fs.remove(`${path}/${segmentFile(base)}`, { force: true })
      // A transaction index of the cleaned segment may already have its final name; the replaced one's is
      // harmless in its place (no aborted record survives a clean).
      if (listing.includes(`${txnIndexFile(base)}${SWAP}`)) yield* fs.remove(`${path}/${txnIndexFile(base)}`, { force: true })
      yield* renameAll(fs, path, base, SWAP, "")
      yield* fs.writeFile(`${path}/${indexFile(base)}`, indexes.offsets)
      yield* fs.writeFile(`${path}/${timeIndexFile(base)}`, indexes.times)
      yield* Effect.logWarning(`${path}/${segmentFile(base)}: completed the swap of a cleaned segment interrupted by a crash`)
    }
    // Index swaps without their log: that clean had not finished and the originals are intact.
    for (const f of yield* fs.readDirectory(path)) if (f.endsWith(SWAP)) yield* fs.remove(`${path}/${f}`, { force: true })
    return yield* fs.readDirectory(path)
  })
