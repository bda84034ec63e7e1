// The live file system: Effect's Node FileSystem, except that small writes and positional reads of an open
// file are done synchronously. On page-cached files those syscalls take microseconds, while a round trip through
// libuv's thread pool costs more than the syscall, and on a two-core machine also a context switch at each end.
// Large ones stay asynchronous so that one big read or write never stalls the event loop for long. It also provides
// DiskSpace: the size of the volume a log dir is on (statfs), for DescribeLogDirs.
import * as NodeFS from "@effect/platform-node/NodeFileSystem"
import { Effect, FileSystem, Layer } from "effect"
import { systemError } from "effect/PlatformError"
import * as fs from "node:fs"
import { resolve } from "node:path"
import { DiskSpace } from "../../services/log/DiskSpace.ts"

/** Writes below this size are synchronous (a produced batch of 100 records of 1 KiB is); the log store runs a
 * request's larger ones side by side. */
const SYNC_WRITE_BYTES = 256 * 1024
/** Positional reads up to this size are synchronous (batch headers, index walks, small fetches). */
const SYNC_READ_BYTES = 256 * 1024

const failure = (method: string, fd: number, cause: unknown) =>
  systemError({
    module: "FileSystem",
    method,
    _tag: (cause as NodeJS.ErrnoException).code === "ENOENT" ? "NotFound" : "Unknown",
    pathOrDescriptor: fd,
    description: String(cause),
    cause
  })

const tuned = (file: FileSystem.File, append: boolean): FileSystem.File => {
  const fd = (file as unknown as { readonly fd?: unknown }).fd
  if (typeof fd !== "number") return file
  return {
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    get stat() {
      return file.stat
    },
    get sync() {
      return file.sync
    },
    seek: (offset, from) => file.seek(offset, from),
    readAlloc: (size, options) => file.readAlloc(size, options),
    truncate: (length) => file.truncate(length),
    write: (buffer) => file.write(buffer),
    read: (buffer, options) => {
      const position = options?.position
      if (position === undefined || buffer.length > SYNC_READ_BYTES) return file.read(buffer, options)
      return Effect.try({ try: () => fs.readSync(fd, buffer, 0, buffer.length, position), catch: (e) => failure("read", fd, e) })
    },
    // Only for files opened to append (the log segments), where the kernel picks the position.
    writeAll: (buffer) => {
      if (!append || buffer.length >= SYNC_WRITE_BYTES) return file.writeAll(buffer)
      return Effect.try({
        try: () => {
          let done = 0
          while (done < buffer.length) done += fs.writeSync(fd, buffer, done, buffer.length - done)
        },
        catch: (e) => failure("writeAll", fd, e)
      })
    }
  }
}

/**
 * The volume a log dir is on, as Java's FileStore gives it to Kafka: total = blocks × fragment size, usable =
 * blocks available to unprivileged users × fragment size; -1 (unknown) when statfs fails.
 */
const diskSpace = Layer.succeed(DiskSpace, {
  describe: (dir) =>
    Effect.callback<{ path: string; totalBytes: number; usableBytes: number }>((resume) => {
      const path = resolve(dir)
      fs.statfs(path, (error, stats) => {
        if (error !== null) return resume(Effect.succeed({ path, totalBytes: -1, usableBytes: -1 }))
        const fragment = (stats as fs.StatsFs & { readonly frsize?: number }).frsize ?? stats.bsize
        resume(Effect.succeed({ path, totalBytes: stats.blocks * fragment, usableBytes: stats.bavail * fragment }))
      })
    })
})

export const layer = Layer.merge(
  Layer.effect(
    FileSystem.FileSystem,
    Effect.gen(function*() {
      const node = yield* FileSystem.FileSystem
      return FileSystem.make({
        ...node,
        open: (path, options) => Effect.map(node.open(path, options), (file) => tuned(file, options?.flag?.startsWith("a") === true))
      })
    })
  ).pipe(Layer.provide(NodeFS.layer)),
  diskSpace
)
