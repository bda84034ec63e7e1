/**
 * An in-memory implementation of Effect's `FileSystem` service.
 *
 * Effect ships no in-memory FileSystem, and the unit tests of the broker's storage need one: they run on this
 * layer instead of Node's, so they are fast, isolated and leave nothing on disk. Behaviour follows Node on Linux
 * (POSIX paths, real directories, open flags, one cursor per handle, bytes shared by all handles of a file), and
 * every failure carries the `PlatformError` tag Node's layer gives for the errno Node would raise (ENOENT →
 * NotFound, EEXIST → AlreadyExists, EISDIR/ENOTDIR/ELOOP → BadResource, EPERM → PermissionDenied, the rest →
 * Unknown), so error handling written against one works on the other. Timestamps come from Effect's `Clock`, so
 * `TestClock` controls them. `watch` is not supported.
 */
import { ByteSize, Effect, FileSystem, Layer, Option, Stream } from "effect"
import { badArgument, isPlatformError, type PlatformError, systemError } from "effect/PlatformError"

interface Meta {
  readonly ino: bigint
  mode: number
  uid: number
  gid: number
  nlink: number
  atime: number
  mtime: number
  readonly birthtime: number
}

interface FileNode extends Meta {
  readonly type: "File"
  // Capacity grows by doubling; bytes past `size` are always zero, so growing a file never has to clear them.
  bytes: Uint8Array
  size: number
}

interface DirNode extends Meta {
  readonly type: "Directory"
  readonly children: Map<string, Node>
}

interface LinkNode extends Meta {
  readonly type: "SymbolicLink"
  readonly target: string
}

type Node = FileNode | DirNode | LinkNode

const errnos = {
  ENOENT: ["NotFound", "no such file or directory"],
  EEXIST: ["AlreadyExists", "file already exists"],
  EISDIR: ["BadResource", "illegal operation on a directory"],
  ENOTDIR: ["BadResource", "not a directory"],
  ELOOP: ["BadResource", "too many symbolic links encountered"],
  EPERM: ["PermissionDenied", "operation not permitted"],
  EBADF: ["Unknown", "bad file descriptor"],
  EINVAL: ["Unknown", "invalid argument"],
  ENOTEMPTY: ["Unknown", "directory not empty"],
  ERR_FS_EISDIR: ["Unknown", "path is a directory"]
} as const

// Operations run synchronously and throw these; `run` moves them to the error channel.
function fail(errno: keyof typeof errnos, method: string, pathOrDescriptor: string | number): never {
  const [_tag, text] = errnos[errno]
  throw systemError({ _tag, module: "FileSystem", method, pathOrDescriptor, description: `${errno}: ${text}` })
}

function invalid(method: string, description: string): never {
  throw badArgument({ module: "FileSystem", method, description })
}

const run = <A>(f: (now: number) => A): Effect.Effect<A, PlatformError> =>
  Effect.clockWith((clock) => {
    try {
      return Effect.succeed(f(clock.currentTimeMillisUnsafe()))
    } catch (error) {
      if (isPlatformError(error)) return Effect.fail(error)
      throw error
    }
  })

const segments = (path: string): Array<string> => {
  const parts: Array<string> = []
  for (const part of path.split("/")) {
    if (part === "..") parts.pop()
    else if (part !== "" && part !== ".") parts.push(part)
  }
  return parts
}

const normalize = (path: string): string => "/" + segments(path).join("/")

const nonNegativeInteger = (method: string, name: string, n: number): number =>
  Number.isInteger(n) && n >= 0 ? n : invalid(method, `${name} must be a non-negative integer`)

const resize = (file: FileNode, length: number): void => {
  if (length > file.bytes.length) {
    const bytes = new Uint8Array(Math.max(length, file.bytes.length * 2, 64))
    bytes.set(file.bytes.subarray(0, file.size))
    file.bytes = bytes
  } else if (length < file.size) {
    file.bytes.fill(0, length, file.size)
  }
  file.size = length
}

const writeAt = (file: FileNode, position: number, data: Uint8Array, now: number): void => {
  if (data.length === 0) return
  if (position + data.length > file.size) resize(file, position + data.length)
  file.bytes.set(data, position)
  file.mtime = now
}

const readAt = (file: FileNode, position: number, into: Uint8Array): number => {
  const n = Math.max(0, Math.min(into.length, file.size - position))
  into.set(file.bytes.subarray(position, position + n))
  return n
}

const typeBits = { File: 0o100000, Directory: 0o040000, SymbolicLink: 0o120000 } as const

const info = (node: Node): FileSystem.File.Info => ({
  type: node.type,
  mtime: Option.some(new Date(node.mtime)),
  atime: Option.some(new Date(node.atime)),
  birthtime: Option.some(new Date(node.birthtime)),
  dev: 0n,
  ino: Option.some(node.ino),
  mode: typeBits[node.type] | node.mode,
  nlink: Option.some(BigInt(node.nlink)),
  uid: Option.some(node.uid),
  gid: Option.some(node.gid),
  rdev: Option.some(0n),
  size: ByteSize.bytes(node.type === "File" ? node.size : node.type === "SymbolicLink" ? node.target.length : 0),
  blksize: Option.none(),
  blocks: Option.none()
})

const randomName = (length: number): string =>
  Array.from({ length }, () => "abcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(Math.random() * 36)]).join("")

/** Where a path leads: the directory that holds (or would hold) its last component, and the entry if any. */
interface Location {
  readonly parent: DirNode
  readonly name: string
  readonly node: Node | undefined
  /** The absolute path, with the symbolic links that were followed resolved. */
  readonly path: string
}

/** A fresh, empty file system (just `/` and `/tmp`). Share one instance to keep files across broker restarts. */
export const make = (): FileSystem.FileSystem => {
  let inodes = 0n
  let descriptors = 2
  const meta = (mode: number, now: number): Meta => ({
    ino: ++inodes,
    mode: mode & 0o7777 & ~0o022,
    uid: 0,
    gid: 0,
    nlink: 0,
    atime: now,
    mtime: now,
    birthtime: now
  })
  const newDir = (mode: number, now: number): DirNode => ({
    ...meta(mode, now),
    type: "Directory",
    children: new Map()
  })
  const newFile = (mode: number, now: number): FileNode => ({
    ...meta(mode, now),
    type: "File",
    bytes: new Uint8Array(0),
    size: 0
  })

  const root = newDir(0o777, 0)
  root.nlink = 1
  root.children.set("tmp", newDir(0o777, 0))

  const attach = (parent: DirNode, name: string, node: Node, now: number): void => {
    parent.children.set(name, node)
    parent.mtime = now
    node.nlink++
  }
  const detach = (parent: DirNode, name: string, now: number): void => {
    const node = parent.children.get(name)
    parent.children.delete(name)
    parent.mtime = now
    if (node !== undefined) node.nlink--
  }

  // Symbolic links are followed in every component but the last, and in the last one too when `follow` is set.
  const locate = (path: string, method: string, follow = true): Location => {
    let parts = segments(path)
    let hops = 0
    walk: for (;;) {
      let dir = root
      for (let i = 0; i < parts.length; i++) {
        const name = parts[i]
        const node = dir.children.get(name)
        const last = i === parts.length - 1
        if (node?.type === "SymbolicLink" && (follow || !last)) {
          if (++hops > 40) fail("ELOOP", method, path)
          const base = node.target.startsWith("/") ? "" : parts.slice(0, i).join("/")
          parts = [...segments(`${base}/${node.target}`), ...parts.slice(i + 1)]
          continue walk
        }
        if (last) return { parent: dir, name, node, path: "/" + parts.join("/") }
        if (node === undefined) fail("ENOENT", method, path)
        if (node.type !== "Directory") fail("ENOTDIR", method, path)
        dir = node
      }
      return { parent: root, name: "", node: root, path: "/" }
    }
  }

  const existing = (path: string, method: string, follow = true): Node =>
    locate(path, method, follow).node ?? fail("ENOENT", method, path)

  // Followed paths never end on a link, so anything that is not a file is a directory.
  const fileAt = (path: string, method: string): FileNode => {
    const node = existing(path, method)
    return node.type === "File" ? node : fail("EISDIR", method, path)
  }

  const directoryAt = (path: string, method: string): DirNode => {
    const node = existing(path, method)
    return node.type === "Directory" ? node : fail("ENOTDIR", method, path)
  }

  const openNode = (path: string, flag: FileSystem.OpenFlag, method: string, now: number, mode = 0o666) => {
    const at = locate(path, method)
    if (at.node === undefined) {
      if (flag.startsWith("r")) fail("ENOENT", method, path)
      const file = newFile(mode, now)
      attach(at.parent, at.name, file, now)
      return file
    }
    const node = at.node as FileNode | DirNode
    if (flag.includes("x")) fail("EEXIST", method, path)
    if (node.type === "Directory") return flag === "r" ? node : fail("EISDIR", method, path)
    if (flag.startsWith("w")) {
      resize(node, 0)
      node.mtime = now
    }
    return node
  }

  // A writable flag never opens a directory.
  const openForWriting = (path: string, flag: FileSystem.OpenFlag, method: string, now: number, mode?: number) =>
    openNode(path, flag, method, now, mode) as FileNode

  // Like Node's handles: the cursor is the handle's own, and appends go to the end without moving it.
  class MemoryFile implements FileSystem.File {
    readonly [FileSystem.FileTypeId] = FileSystem.FileTypeId
    readonly fd = ++descriptors
    readonly node: FileNode | DirNode
    readonly append: boolean
    readonly readable: boolean
    readonly writable: boolean
    position = 0
    closed = false

    constructor(node: FileNode | DirNode, flag: FileSystem.OpenFlag) {
      this.node = node
      this.append = flag.startsWith("a")
      this.readable = flag === "r" || flag.endsWith("+")
      this.writable = flag !== "r"
    }

    private usable(method: string, allowed = true) {
      if (this.closed || !allowed) fail("EBADF", method, this.fd)
      return this.node
    }

    private readInto(method: string, buffer: Uint8Array, options?: FileSystem.File.ReadOptions): number {
      const node = this.usable(method, this.readable)
      if (node.type !== "File") return fail("EISDIR", method, this.fd)
      const explicit = options?.position
      if (explicit !== undefined && explicit < 0n) invalid(method, "Cannot read before the start of the file")
      const n = readAt(node, Number(explicit ?? this.position), buffer)
      if (explicit === undefined) this.position += n
      return n
    }

    private writeFrom(method: string, buffer: Uint8Array, now: number): void {
      const file = this.usable(method, this.writable) as FileNode
      writeAt(file, this.append ? file.size : this.position, buffer, now)
      if (!this.append) this.position += buffer.length
    }

    readonly stat = run(() => info(this.usable("stat")))
    readonly sync = run(() => void this.usable("sync"))

    seek(offset: bigint, from: FileSystem.SeekMode) {
      return run(() => {
        const position = from === "start" ? offset : BigInt(this.position) + offset
        if (position < 0n) invalid("seek", "Cannot seek before the start of the file")
        this.position = Number(position)
        return position
      })
    }

    read(buffer: Uint8Array, options?: FileSystem.File.ReadOptions) {
      return run(() => this.readInto("read", buffer, options))
    }

    readAlloc(size: number, options?: FileSystem.File.ReadOptions) {
      return run(() => {
        const buffer = new Uint8Array(nonNegativeInteger("readAlloc", "size", size))
        const n = this.readInto("readAlloc", buffer, options)
        return n === 0 ? Option.none() : Option.some(n === size ? buffer : buffer.slice(0, n))
      })
    }

    truncate(length = 0) {
      return run((now) => {
        const file = this.usable("truncate") as FileNode
        if (!this.writable) fail("EINVAL", "truncate", this.fd)
        const size = nonNegativeInteger("truncate", "length", Math.max(0, length))
        resize(file, size)
        file.mtime = now
        if (!this.append) this.position = Math.min(this.position, size)
      })
    }

    write(buffer: Uint8Array) {
      return run((now) => {
        this.writeFrom("write", buffer, now)
        return buffer.length
      })
    }

    writeAll(buffer: Uint8Array) {
      return run((now) => this.writeFrom("writeAll", buffer, now))
    }
  }

  const makeTempDirectory = (method: string) =>
  (options?: { readonly directory?: string | undefined; readonly prefix?: string | undefined }) =>
    run((now) => {
      const directory = options?.directory ?? "/tmp"
      const base = options?.prefix ? `${directory}/${options.prefix}` : `${directory}/`
      for (;;) {
        const at = locate(base + randomName(6), method, false)
        if (at.node === undefined) {
          attach(at.parent, at.name, newDir(0o700, now), now)
          return at.path
        }
      }
    })

  const makeTempFile = (method: string) =>
  (options?: {
    readonly directory?: string | undefined
    readonly prefix?: string | undefined
    readonly suffix?: string | undefined
  }) =>
    Effect.flatMap(makeTempDirectory(method)(options), (directory) =>
      run((now) => {
        const path = `${directory}/${randomName(12)}${options?.suffix ?? ""}`
        openForWriting(path, "wx", method, now)
        return path
      }))

  const remove = (
    path: string,
    options?: { readonly recursive?: boolean | undefined; readonly force?: boolean | undefined }
  ) =>
    run((now) => {
      const at = locate(path, "remove", false)
      if (at.node === undefined) fail("ENOENT", "remove", path)
      if (at.name === "") fail("EPERM", "remove", path)
      // Node's rm refuses any directory, even an empty one, unless recursive.
      if (at.node.type === "Directory" && !options?.recursive) fail("ERR_FS_EISDIR", "remove", path)
      detach(at.parent, at.name, now)
    }).pipe(
      Effect.catchTag("PlatformError", (e) =>
        options?.force && e.reason._tag === "NotFound" ? Effect.void : Effect.fail(e))
    )

  const removeWhenClosed = (path: string) => Effect.orDie(remove(path, { recursive: true, force: true }))

  return FileSystem.make({
    access: (path) => run(() => void existing(path, "access")),

    // `cp -r` that dereferences symbolic links and skips existing files unless `overwrite` is set.
    copy: (fromPath, toPath, options) =>
      run((now) => {
        const from = locate(fromPath, "copy")
        if (from.node === undefined) return fail("ENOENT", "copy", fromPath)
        if (locate(toPath, "copy").path.startsWith(from.path + "/")) fail("EINVAL", "copy", toPath)
        const copyTree = (source: string, target: string): void => {
          const node = existing(source, "copy")
          if (node.type === "Directory") {
            const at = locate(target, "copy")
            if (at.node === undefined) attach(at.parent, at.name, newDir(node.mode, now), now)
            else if (at.node.type !== "Directory") fail("ENOTDIR", "copy", target)
            for (const name of node.children.keys()) copyTree(`${source}/${name}`, `${target}/${name}`)
          } else if (node.type === "File" && (options?.overwrite || locate(target, "copy").node === undefined)) {
            const file = openForWriting(target, "w", "copy", now, node.mode)
            writeAt(file, 0, node.bytes.subarray(0, node.size), now)
            if (options?.preserveTimestamps) {
              file.atime = node.atime
              file.mtime = node.mtime
            }
          }
        }
        copyTree(from.path, normalize(toPath))
      }),

    copyFile: (fromPath, toPath) =>
      run((now) => {
        const source = fileAt(fromPath, "copyFile")
        const data = source.bytes.slice(0, source.size)
        writeAt(openForWriting(toPath, "w", "copyFile", now), 0, data, now)
      }),

    chmod: (path, mode) =>
      run(() => {
        const node = existing(path, "chmod")
        node.mode = mode & 0o7777
      }),

    chown: (path, uid, gid) =>
      run(() => {
        const node = existing(path, "chown")
        node.uid = uid
        node.gid = gid
      }),

    link: (fromPath, toPath) =>
      run((now) => {
        const node = existing(fromPath, "link", false)
        if (node.type === "Directory") fail("EPERM", "link", fromPath)
        const at = locate(toPath, "link", false)
        if (at.node !== undefined) fail("EEXIST", "link", toPath)
        attach(at.parent, at.name, node, now)
      }),

    lstat: (path) => run(() => info(existing(path, "lstat", false))),

    makeDirectory: (path, options) =>
      run((now) => {
        const mode = options?.mode ?? 0o777
        if (!options?.recursive) {
          const at = locate(path, "makeDirectory", false)
          if (at.node !== undefined) fail("EEXIST", "makeDirectory", path)
          return attach(at.parent, at.name, newDir(mode, now), now)
        }
        const parts = segments(path)
        for (let i = 1; i <= parts.length; i++) {
          const at = locate("/" + parts.slice(0, i).join("/"), "makeDirectory")
          if (at.node === undefined) attach(at.parent, at.name, newDir(mode, now), now)
          else if (at.node.type !== "Directory") {
            fail(i === parts.length ? "EEXIST" : "ENOTDIR", "makeDirectory", path)
          }
        }
      }),

    makeTempDirectory: makeTempDirectory("makeTempDirectory"),
    makeTempDirectoryScoped: (options) =>
      Effect.acquireRelease(makeTempDirectory("makeTempDirectoryScoped")(options), removeWhenClosed),
    makeTempFile: makeTempFile("makeTempFile"),
    makeTempFileScoped: (options) =>
      Effect.acquireRelease(
        makeTempFile("makeTempFileScoped")(options),
        (path) => removeWhenClosed(path.slice(0, path.lastIndexOf("/")))
      ),

    open: (path, options) =>
      Effect.acquireRelease(
        run((now) => {
          const flag = options?.flag ?? "r"
          if (options?.noFollow && locate(path, "open", false).node?.type === "SymbolicLink") {
            fail("ELOOP", "open", path)
          }
          return new MemoryFile(openNode(path, flag, "open", now, options?.mode), flag)
        }),
        (file) => Effect.sync(() => void (file.closed = true))
      ),

    readDirectory: (path, options) =>
      run(() => {
        const list = (dir: DirNode, prefix: string): Array<string> =>
          [...dir.children].flatMap(([name, node]) =>
            options?.recursive && node.type === "Directory"
              ? [prefix + name, ...list(node, `${prefix}${name}/`)]
              : [prefix + name]
          )
        return list(directoryAt(path, "readDirectory"), "")
      }),

    readDirectoryEntries: (path) =>
      run(() =>
        [...directoryAt(path, "readDirectoryEntries").children].map(([name, node]) => ({ name, type: node.type }))
      ),

    readFile: (path) =>
      run(() => {
        const file = fileAt(path, "readFile")
        return file.bytes.slice(0, file.size)
      }),

    readLink: (path) =>
      run(() => {
        const node = existing(path, "readLink", false)
        return node.type === "SymbolicLink" ? node.target : fail("EINVAL", "readLink", path)
      }),

    realPath: (path) =>
      run(() => {
        const at = locate(path, "realPath")
        return at.node === undefined ? fail("ENOENT", "realPath", path) : at.path
      }),

    remove,

    rename: (oldPath, newPath) =>
      run((now) => {
        const from = locate(oldPath, "rename", false)
        const node = from.node ?? fail("ENOENT", "rename", oldPath)
        const to = locate(newPath, "rename", false)
        if (to.node === node) return
        if (from.name === "" || to.name === "") fail("EPERM", "rename", oldPath)
        if (node.type === "Directory" && to.path.startsWith(from.path + "/")) fail("EINVAL", "rename", oldPath)
        if (to.node !== undefined) {
          if (node.type === "Directory") {
            if (to.node.type !== "Directory") fail("ENOTDIR", "rename", newPath)
            else if (to.node.children.size > 0) fail("ENOTEMPTY", "rename", newPath)
          } else if (to.node.type === "Directory") {
            fail("EISDIR", "rename", newPath)
          }
          detach(to.parent, to.name, now)
        }
        detach(from.parent, from.name, now)
        attach(to.parent, to.name, node, now)
      }),

    stat: (path) => run(() => info(existing(path, "stat"))),

    symlink: (target, path) =>
      run((now) => {
        const at = locate(path, "symlink", false)
        if (at.node !== undefined) fail("EEXIST", "symlink", path)
        attach(at.parent, at.name, { ...meta(0, now), mode: 0o777, type: "SymbolicLink", target }, now)
      }),

    truncate: (path, length = 0) =>
      run((now) => {
        const file = fileAt(path, "truncate")
        resize(file, nonNegativeInteger("truncate", "length", Math.max(0, length)))
        file.mtime = now
      }),

    // Node takes numbers as seconds since the epoch.
    utimes: (path, atime, mtime) =>
      run(() => {
        const node = existing(path, "utimes")
        node.atime = typeof atime === "number" ? atime * 1000 : atime.getTime()
        node.mtime = typeof mtime === "number" ? mtime * 1000 : mtime.getTime()
      }),

    watch: (path) =>
      Stream.fail(systemError({
        _tag: "Unknown",
        module: "FileSystem",
        method: "watch",
        pathOrDescriptor: path,
        description: "watch is not supported by the in-memory file system"
      })),

    writeFile: (path, data, options) =>
      run((now) => {
        const flag = options?.flag ?? "w"
        if (flag === "r") fail("EBADF", "writeFile", path)
        const file = openForWriting(path, flag, "writeFile", now, options?.mode)
        writeAt(file, flag.startsWith("a") ? file.size : 0, data, now)
      })
  })
}

/** Provides a fresh, empty in-memory file system each time the layer is built. */
export const layer: Layer.Layer<FileSystem.FileSystem> = Layer.sync(FileSystem.FileSystem, make)

/** Provides the given file system, e.g. one shared by two successive broker instances to simulate a restart. */
export const layerWith = (fs: FileSystem.FileSystem): Layer.Layer<FileSystem.FileSystem> =>
  Layer.succeed(FileSystem.FileSystem, fs)
