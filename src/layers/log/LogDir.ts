// What the pieces of the file log store share: the log dir and what the last run left there (clean-shutdown
// marker, checkpoints, which partition directories exist), the partitions loaded so far, the open segment files,
// the buffer pool, and how failures become StorageErrors. Built once by `open` when the store starts.
import { Deferred, Effect, type FileSystem, type Scope, Semaphore } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { CLEAN_SHUTDOWN, CLEANER_OFFSETS, type CheckpointEntry, LOG_START_OFFSETS, parseCheckpoint, RECOVERY_POINTS } from "../../protocol/logdir/LogFiles.ts"
import type { BrokerConfigShape } from "../../services/config/BrokerConfig.ts"
import { effectiveConfig } from "../../services/config/DynamicConfigs.ts"
import { describeFailure, LogDirUnavailable, StorageError } from "../../services/Errors.ts"
import { partitionName } from "../../services/log/LogStore.ts"
import { internalLogConfigs, type LogSettings, logSettings, type Partition } from "../../services/log/Partition.ts"
import type { ClusterMetadata } from "../../services/metadata/ClusterMetadata.ts"

type ClusterMetadataShape = ClusterMetadata["Service"]
import type { Pool } from "../../services/network/BufferPool.ts"
import * as SegmentFiles from "./SegmentFiles.ts"

export interface LogDir {
  readonly fs: FileSystem.FileSystem
  readonly config: BrokerConfigShape
  readonly metadata: ClusterMetadataShape
  readonly pool: Pool
  readonly path: string
  /** Files and fibers of the store live here; closed after the final flush. */
  readonly scope: Scope.Scope
  readonly files: SegmentFiles.SegmentFiles
  /** Whether the last run shut down cleanly (its files can be trusted as they are). */
  readonly clean: boolean
  readonly partitions: Map<string, Partition>
  /** Partitions deleted since start: they must not come back by being read or written. */
  readonly deleted: Set<string>
  /** Names of the partition directories there are: a partition without one holds nothing yet. */
  readonly onDisk: Set<string>
  /** The checkpoint files' entries; partitions not loaded in this run keep the ones the last run wrote. */
  readonly recoveryPoints: Map<string, CheckpointEntry>
  readonly logStarts: Map<string, CheckpointEntry>
  /** Where the last clean of each compacted partition ended (`cleaner-offset-checkpoint`). */
  readonly cleanerOffsets: Map<string, CheckpointEntry>
  /** Loading a partition happens once: one load at a time. */
  readonly loadLock: Semaphore.Semaphore
  /** Long polls waiting for an append, per partition name. */
  readonly waiters: Map<string, Set<Deferred.Deferred<void>>>
}

/** A file-system failure on a partition, with the file it concerns. */
export const storageError = (name: string, path?: string) => (cause: PlatformError) => new StorageError({ partition: name, path, cause })

const noOverrides = new Map<string, string>()

/** The partition's topic settings as they are now. */
export const settings = (dir: LogDir, p: Partition): Effect.Effect<LogSettings> => topicSettings(dir, p.tp.topic)

/** A topic's settings as they are now (the broker's own logs have theirs), dynamic broker configs applied. */
export const topicSettings = (dir: LogDir, topic: string): Effect.Effect<LogSettings> =>
  Effect.map(dir.metadata.image, (image) => {
    const config = effectiveConfig(dir.config, image)
    return logSettings(config, image.topics.get(topic)?.configs ?? internalLogConfigs(config, topic) ?? noOverrides)
  })

/** The broker's configuration in effect now: the static one with the dynamic broker configs over it. */
export const currentConfig = (dir: LogDir): Effect.Effect<BrokerConfigShape> =>
  Effect.map(dir.metadata.image, (image) => effectiveConfig(dir.config, image))

/**
 * Reads what the last run left in the log dir and removes the clean-shutdown marker: from now on a crash must be
 * recovered from. A log dir that cannot be written fails with one clear error.
 */
export const open = Effect.fnUntraced(function*(
  fs: FileSystem.FileSystem,
  config: BrokerConfigShape,
  metadata: ClusterMetadataShape,
  pool: Pool,
  scope: Scope.Scope
): Effect.fn.Return<LogDir, LogDirUnavailable> {
  const path = config.logDir
  const readText = (name: string) => fs.readFileString(`${path}/${name}`).pipe(Effect.catchTag("PlatformError", () => Effect.succeed("")))
  const checkpoint = (text: string) => new Map((parseCheckpoint(text) ?? []).map((e) => [partitionName(e), e]))
  const found = yield* Effect.gen(function*() {
    yield* fs.makeDirectory(path, { recursive: true })
    const clean = yield* fs.exists(`${path}/${CLEAN_SHUTDOWN}`)
    const recoveryPoints = checkpoint(yield* readText(RECOVERY_POINTS))
    const logStarts = checkpoint(yield* readText(LOG_START_OFFSETS))
    const cleanerOffsets = checkpoint(yield* readText(CLEANER_OFFSETS))
    const onDisk = new Set(yield* fs.readDirectory(path))
    yield* fs.remove(`${path}/${CLEAN_SHUTDOWN}`, { force: true })
    return { clean, recoveryPoints, logStarts, cleanerOffsets, onDisk }
  }).pipe(Effect.mapError((cause) => new LogDirUnavailable({ dir: path, detail: describeFailure(cause) })))
  return {
    fs,
    config,
    metadata,
    pool,
    path,
    scope,
    files: SegmentFiles.make(fs, scope, config.logMaxOpenFiles),
    ...found,
    partitions: new Map(),
    deleted: new Set(),
    loadLock: yield* Semaphore.make(1),
    waiters: new Map()
  }
})

/** Wakes the long polls waiting on the partition. */
export const notify = (dir: LogDir, name: string): void => {
  const set = dir.waiters.get(name)
  if (set === undefined) return
  dir.waiters.delete(name)
  for (const d of set) Deferred.doneUnsafe(d, Effect.void)
}
