// A file system with faults a disk has: every write, removal or directory change under a path can be made to
// fail with an operating system error (ENOSPC for a full disk, EROFS for a read-only mount, EIO), as Node
// reports it. It also counts the files open at once, so tests can check a bound on file descriptors.
import { Effect, FileSystem } from "effect"
import { type PlatformError, systemError } from "effect/PlatformError"
import { sameLogs } from "./SqlLogStores.ts"

export interface Faults {
  /** While set, writing operations on paths under `prefix` fail with this errno. */
  failing: { readonly errno: "ENOSPC" | "EROFS" | "EIO" | "EACCES"; readonly prefix: string } | undefined
  /** Files open right now, and the most that were open at once. */
  open: number
  maxOpen: number
}

const TEXT: Record<string, string> = {
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EIO: "i/o error",
  EACCES: "permission denied"
}

export const faulty = (fs: FileSystem.FileSystem): { readonly fs: FileSystem.FileSystem; readonly faults: Faults } => {
  const faults: Faults = { failing: undefined, open: 0, maxOpen: 0 }
  const guard = <A, E, R>(method: string, path: string, effect: Effect.Effect<A, E, R>) =>
    Effect.suspend((): Effect.Effect<A, E | PlatformError, R> => {
      const f = faults.failing
      if (f === undefined || !path.startsWith(f.prefix)) return effect
      const description = `${f.errno}: ${TEXT[f.errno]}, ${method} '${path}'`
      const cause = Object.assign(new Error(description), { code: f.errno, syscall: method })
      return Effect.fail(systemError({
        _tag: f.errno === "EACCES" ? "PermissionDenied" : "Unknown",
        module: "FileSystem",
        method,
        pathOrDescriptor: path,
        cause
      }))
    })
  const wrapped = FileSystem.make({
    ...fs,
    open: (path, options) =>
      Effect.gen(function*() {
        const writing = options?.flag !== undefined && options.flag !== "r"
        const f = yield* (writing ? guard("open", path, fs.open(path, options)) : fs.open(path, options))
        faults.open++
        faults.maxOpen = Math.max(faults.maxOpen, faults.open)
        yield* Effect.addFinalizer(() => Effect.sync(() => void faults.open--))
        return {
          [FileSystem.FileTypeId]: FileSystem.FileTypeId,
          stat: f.stat,
          seek: (offset, from) => f.seek(offset, from),
          sync: guard("fsync", path, f.sync),
          read: (buffer, o) => f.read(buffer, o),
          readAlloc: (size, o) => f.readAlloc(size, o),
          truncate: (length) => guard("ftruncate", path, f.truncate(length)),
          write: (buffer) => guard("write", path, f.write(buffer)),
          writeAll: (buffer) => guard("write", path, f.writeAll(buffer))
        } satisfies FileSystem.File
      }),
    writeFile: (path, data, options) => guard("open", path, fs.writeFile(path, data, options)),
    makeDirectory: (path, options) => guard("mkdir", path, fs.makeDirectory(path, options)),
    rename: (from, to) => guard("rename", from, fs.rename(from, to)),
    remove: (path, options) => guard("unlink", path, fs.remove(path, options)),
    truncate: (path, length) => guard("truncate", path, fs.truncate(path, length))
  })
  sameLogs(wrapped, fs)
  return { fs: wrapped, faults }
}
