import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ByteSize, Effect, Exit, FileSystem, Layer, Option, Scope, Stream } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { TestClock } from "effect/testing"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

/** The reason tag of the PlatformError the effect fails with, or "succeeded". */
const failure = <A, R>(effect: Effect.Effect<A, PlatformError, R>) =>
  Effect.match(effect, { onFailure: (e) => e.reason._tag, onSuccess: () => "succeeded" })

const sizeOf = (info: FileSystem.File.Info) => ByteSize.toBigInt(info.size)

type Body = (fs: FileSystem.FileSystem, root: string) => Effect.Effect<void, PlatformError, Scope.Scope>

// The same assertions run over Node's file system and the in-memory one, in a fresh temporary directory each.
const sharedSuite = (name: string, layer: Layer.Layer<FileSystem.FileSystem>) =>
  describe(name, () => {
    const test = (title: string, body: Body) =>
      it.effect(title, () =>
        Effect.gen(function*() {
          const fs = yield* FileSystem.FileSystem
          yield* body(fs, yield* fs.makeTempDirectoryScoped({ prefix: "memfs-" }))
        }).pipe(Effect.scoped, Effect.provide(layer)))

    test("appends through two a+ handles and reads them back by position", (fs, root) =>
      Effect.gen(function*() {
        const path = `${root}/00000000000000000000.log`
        const one = yield* fs.open(path, { flag: "a+" })
        const two = yield* fs.open(path, { flag: "a+" })
        yield* one.writeAll(bytes("abc"))
        yield* two.writeAll(bytes("def"))
        assert.strictEqual(yield* one.write(bytes("gh")), 2)
        assert.strictEqual(sizeOf(yield* two.stat), 8n)

        const buffer = new Uint8Array(16)
        assert.strictEqual(yield* two.read(buffer, { position: 3n }), 5)
        assert.strictEqual(text(buffer.subarray(0, 5)), "defgh")
        assert.isTrue(Option.isNone(yield* one.readAlloc(4, { position: 8n })))
        assert.strictEqual(yield* one.read(buffer, { position: 100n }), 0)
        // Appends leave the cursor alone, so a read without a position starts at 0.
        assert.deepStrictEqual(Option.map(yield* one.readAlloc(3), text), Option.some("abc"))
        assert.deepStrictEqual(Option.map(yield* one.readAlloc(10), text), Option.some("defgh"))
        assert.isTrue(Option.isNone(yield* one.readAlloc(10)))
        assert.strictEqual(text(yield* fs.readFile(path)), "abcdefgh")
      }))

    test("shows writes through one handle to a reader opened before them", (fs, root) =>
      Effect.gen(function*() {
        const path = `${root}/shared`
        const writer = yield* fs.open(path, { flag: "w" })
        const reader = yield* fs.open(path, { flag: "r" })
        assert.isTrue(Option.isNone(yield* reader.readAlloc(8)))
        yield* writer.writeAll(bytes("hello"))
        yield* writer.sync
        assert.deepStrictEqual(Option.map(yield* reader.readAlloc(8), text), Option.some("hello"))
        yield* writer.writeAll(bytes(" world"))
        assert.deepStrictEqual(Option.map(yield* reader.readAlloc(8), text), Option.some(" world"))
      }))

    test("truncates a log and appends after the cut", (fs, root) =>
      Effect.gen(function*() {
        const path = `${root}/log`
        const file = yield* fs.open(path, { flag: "a+" })
        yield* file.writeAll(bytes("0123456789"))
        yield* file.truncate(4)
        yield* file.writeAll(bytes("xy"))
        assert.strictEqual(text(yield* fs.readFile(path)), "0123xy")
        yield* fs.truncate(path, 2)
        assert.strictEqual(sizeOf(yield* fs.stat(path)), 2n)
        yield* file.writeAll(bytes("z"))
        assert.strictEqual(text(yield* fs.readFile(path)), "01z")
        yield* fs.truncate(path, 5)
        assert.deepStrictEqual([...(yield* fs.readFile(path))], [48, 49, 122, 0, 0])
        yield* fs.truncate(path)
        assert.strictEqual(sizeOf(yield* file.stat), 0n)
      }))

    test("clamps a cursor past the new end when a non-append handle truncates", (fs, root) =>
      Effect.gen(function*() {
        const file = yield* fs.open(`${root}/f`, { flag: "w+" })
        yield* file.writeAll(bytes("abcdef"))
        yield* file.truncate(2)
        yield* file.writeAll(bytes("Z"))
        assert.strictEqual(text(yield* fs.readFile(`${root}/f`)), "abZ")
      }))

    test("follows Node's open flags", (fs, root) =>
      Effect.gen(function*() {
        const path = `${root}/f`
        assert.strictEqual(yield* failure(fs.open(path, { flag: "r" })), "NotFound")
        assert.strictEqual(yield* failure(fs.open(path, { flag: "r+" })), "NotFound")
        yield* fs.writeFileString(path, "hello world")
        assert.strictEqual(yield* failure(fs.open(path, { flag: "wx" })), "AlreadyExists")
        assert.strictEqual(yield* failure(fs.open(path, { flag: "ax+" })), "AlreadyExists")

        const rw = yield* fs.open(path, { flag: "r+" })
        yield* rw.seek(6n, "start")
        yield* rw.writeAll(bytes("WORLD"))
        assert.strictEqual(yield* fs.readFileString(path), "hello WORLD")
        assert.strictEqual(yield* rw.seek(-5n, "current"), 6n)
        assert.deepStrictEqual(Option.map(yield* rw.readAlloc(5), text), Option.some("WORLD"))

        const append = yield* fs.open(path, { flag: "a" })
        yield* append.seek(0n, "start")
        yield* append.writeAll(bytes("!"))
        assert.strictEqual(yield* fs.readFileString(path), "hello WORLD!")

        yield* fs.open(path, { flag: "w" })
        assert.strictEqual(yield* fs.readFileString(path), "")
        const created = yield* fs.open(`${root}/new`, { flag: "wx+" })
        yield* created.writeAll(bytes("abc"))
        assert.deepStrictEqual(Option.map(yield* created.readAlloc(3, { position: 0n }), text), Option.some("abc"))
        yield* fs.writeFileString(`${root}/new`, "def", { flag: "a" })
        assert.strictEqual(yield* fs.readFileString(`${root}/new`), "abcdef")
      }))

    test("writes past the end leave zeros in the gap", (fs, root) =>
      Effect.gen(function*() {
        const file = yield* fs.open(`${root}/sparse`, { flag: "w+" })
        yield* file.seek(3n, "start")
        yield* file.writeAll(bytes("x"))
        assert.deepStrictEqual([...(yield* fs.readFile(`${root}/sparse`))], [0, 0, 0, 120])
        assert.strictEqual(yield* failure(file.seek(-1n, "start")), "BadArgument")
      }))

    test("lists directories made recursively, by name", (fs, root) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory(`${root}/logs/topic-0`, { recursive: true })
        yield* fs.makeDirectory(`${root}/logs/topic-1`, { recursive: true })
        yield* fs.makeDirectory(`${root}/logs/topic-1`, { recursive: true })
        yield* fs.writeFileString(`${root}/logs/meta.properties`, "node.id=1\n")
        yield* fs.writeFileString(`${root}/logs/topic-0/00000000000000000000.log`, "")
        assert.deepStrictEqual((yield* fs.readDirectory(`${root}/logs`)).sort(), [
          "meta.properties",
          "topic-0",
          "topic-1"
        ])
        assert.deepStrictEqual((yield* fs.readDirectory(`${root}/logs`, { recursive: true })).sort(), [
          "meta.properties",
          "topic-0",
          "topic-0/00000000000000000000.log",
          "topic-1"
        ])
        const entries = yield* fs.readDirectoryEntries(`${root}/logs`)
        assert.deepStrictEqual(
          [...entries].sort((a, b) => a.name.localeCompare(b.name)).map((e) => e.type),
          ["File", "Directory", "Directory"]
        )
        assert.deepStrictEqual(yield* fs.glob("logs/*/*.log", { root }), ["logs/topic-0/00000000000000000000.log"])
      }))

    test("keeps directories real", (fs, root) =>
      Effect.gen(function*() {
        assert.strictEqual(yield* failure(fs.makeDirectory(`${root}/a/b`)), "NotFound")
        assert.strictEqual(yield* failure(fs.writeFileString(`${root}/a/b`, "x")), "NotFound")
        assert.strictEqual(yield* failure(fs.open(`${root}/a/b`, { flag: "a+" })), "NotFound")
        yield* fs.makeDirectory(`${root}/a`)
        assert.strictEqual(yield* failure(fs.makeDirectory(`${root}/a`)), "AlreadyExists")
        yield* fs.writeFileString(`${root}/a/f`, "x")
        assert.strictEqual(yield* failure(fs.makeDirectory(`${root}/a/f`, { recursive: true })), "AlreadyExists")
        assert.strictEqual(yield* failure(fs.makeDirectory(`${root}/a/f/g`, { recursive: true })), "BadResource")
        assert.strictEqual(yield* failure(fs.readDirectory(`${root}/a/f`)), "BadResource")
        assert.strictEqual(yield* failure(fs.readDirectory(`${root}/missing`)), "NotFound")
        assert.strictEqual(yield* failure(fs.readFile(`${root}/a`)), "BadResource")
        assert.strictEqual(yield* failure(fs.open(`${root}/a`, { flag: "a+" })), "BadResource")
        assert.strictEqual(yield* failure(fs.readFile(`${root}/a/missing`)), "NotFound")
      }))

    test("normalises paths", (fs, root) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory(`${root}/a/b`, { recursive: true })
        yield* fs.writeFileString(`${root}//a/./b/../b//f`, "x")
        assert.strictEqual(yield* fs.readFileString(`${root}/a/b/f`), "x")
        assert.strictEqual(yield* fs.realPath(`${root}/a/./b/../b/f`), `${yield* fs.realPath(root)}/a/b/f`)
      }))

    test("renames files and directories", (fs, root) =>
      Effect.gen(function*() {
        yield* fs.writeFileString(`${root}/a.cleaned`, "new")
        yield* fs.writeFileString(`${root}/a.log`, "old")
        yield* fs.rename(`${root}/a.cleaned`, `${root}/a.log`)
        assert.strictEqual(yield* fs.readFileString(`${root}/a.log`), "new")
        assert.isFalse(yield* fs.exists(`${root}/a.cleaned`))

        yield* fs.makeDirectory(`${root}/topic-0`)
        yield* fs.rename(`${root}/a.log`, `${root}/topic-0/a.log`)
        yield* fs.rename(`${root}/topic-0`, `${root}/topic-0.deleted`)
        assert.deepStrictEqual(yield* fs.readDirectory(`${root}/topic-0.deleted`), ["a.log"])
        assert.strictEqual(yield* failure(fs.rename(`${root}/topic-0`, `${root}/x`)), "NotFound")
        assert.strictEqual(yield* failure(fs.rename(`${root}/topic-0.deleted/a.log`, `${root}/no/x`)), "NotFound")
        yield* fs.makeDirectory(`${root}/d`)
        assert.strictEqual(yield* failure(fs.rename(`${root}/topic-0.deleted/a.log`, `${root}/d`)), "BadResource")
        assert.strictEqual(yield* failure(fs.rename(`${root}/d`, `${root}/topic-0.deleted`)), "Unknown")
      }))

    test("an open handle keeps working after a rename", (fs, root) =>
      Effect.gen(function*() {
        const file = yield* fs.open(`${root}/a`, { flag: "a+" })
        yield* fs.rename(`${root}/a`, `${root}/b`)
        yield* file.writeAll(bytes("moved"))
        assert.strictEqual(yield* fs.readFileString(`${root}/b`), "moved")
      }))

    test("removes files and trees", (fs, root) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory(`${root}/t/p-0`, { recursive: true })
        yield* fs.writeFileString(`${root}/t/p-0/0.log`, "x")
        yield* fs.makeDirectory(`${root}/empty`)
        assert.strictEqual(yield* failure(fs.remove(`${root}/t`)), "Unknown")
        assert.strictEqual(yield* failure(fs.remove(`${root}/empty`)), "Unknown")
        yield* fs.remove(`${root}/t/p-0/0.log`)
        assert.deepStrictEqual(yield* fs.readDirectory(`${root}/t/p-0`), [])
        yield* fs.writeFileString(`${root}/t/p-0/0.log`, "x")
        yield* fs.remove(`${root}/t`, { recursive: true })
        assert.isFalse(yield* fs.exists(`${root}/t`))
        assert.strictEqual(yield* failure(fs.remove(`${root}/t`)), "NotFound")
        yield* fs.remove(`${root}/t`, { force: true })
        yield* fs.remove(`${root}/t/deeper`, { force: true, recursive: true })
        assert.deepStrictEqual(yield* fs.readDirectory(root), ["empty"])
      }))

    test("stats files and directories", (fs, root) =>
      Effect.gen(function*() {
        yield* fs.writeFileString(`${root}/f`, "12345")
        const file = yield* fs.stat(`${root}/f`)
        assert.strictEqual(file.type, "File")
        assert.strictEqual(sizeOf(file), 5n)
        assert.isTrue(Option.isSome(file.mtime))
        assert.strictEqual(file.mode & 0o170000, 0o100000)
        assert.strictEqual((yield* fs.stat(root)).type, "Directory")
        assert.strictEqual(yield* failure(fs.stat(`${root}/missing`)), "NotFound")
        assert.strictEqual(yield* failure(fs.access(`${root}/missing`)), "NotFound")
        yield* fs.access(`${root}/f`)
        assert.isTrue(yield* fs.exists(`${root}/f`))
        assert.isFalse(yield* fs.exists(`${root}/missing`))
        assert.isFalse(yield* fs.exists(`${root}/missing/deeper`))
        yield* fs.utimes(`${root}/f`, new Date(1_000_000), new Date(2_000_000))
        assert.deepStrictEqual((yield* fs.stat(`${root}/f`)).mtime, Option.some(new Date(2_000_000)))
      }))

    test("copies files and trees", (fs, root) =>
      Effect.gen(function*() {
        yield* fs.writeFileString(`${root}/a`, "original")
        yield* fs.copyFile(`${root}/a`, `${root}/b`)
        yield* fs.writeFileString(`${root}/a`, "changed")
        assert.strictEqual(yield* fs.readFileString(`${root}/b`), "original")
        assert.strictEqual(yield* failure(fs.copyFile(`${root}/missing`, `${root}/c`)), "NotFound")
        assert.strictEqual(yield* failure(fs.copyFile(`${root}/a`, `${root}/no/c`)), "NotFound")

        yield* fs.makeDirectory(`${root}/src/sub`, { recursive: true })
        yield* fs.writeFileString(`${root}/src/sub/f`, "deep")
        yield* fs.copy(`${root}/src`, `${root}/dst`)
        assert.strictEqual(yield* fs.readFileString(`${root}/dst/sub/f`), "deep")
      }))

    test("follows symbolic links", (fs, root) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory(`${root}/real`)
        yield* fs.writeFileString(`${root}/real/f`, "through")
        yield* fs.symlink(`${root}/real`, `${root}/link`)
        assert.strictEqual(yield* fs.readLink(`${root}/link`), `${root}/real`)
        assert.strictEqual(yield* fs.readFileString(`${root}/link/f`), "through")
        assert.strictEqual((yield* fs.lstat(`${root}/link`)).type, "SymbolicLink")
        assert.strictEqual((yield* fs.stat(`${root}/link`)).type, "Directory")
        assert.strictEqual(yield* fs.realPath(`${root}/link/f`), `${yield* fs.realPath(root)}/real/f`)
        assert.strictEqual(yield* failure(fs.symlink(`${root}/real`, `${root}/link`)), "AlreadyExists")
        yield* fs.link(`${root}/real/f`, `${root}/hard`)
        yield* fs.writeFileString(`${root}/hard`, "shared", { flag: "a" })
        assert.strictEqual(yield* fs.readFileString(`${root}/real/f`), "throughshared")
      }))

    test("streams and sinks through the derived methods", (fs, root) =>
      Effect.gen(function*() {
        yield* Stream.make(bytes("ab"), bytes("cd")).pipe(Stream.run(fs.sink(`${root}/s`)))
        const chunks = yield* Stream.runCollect(fs.stream(`${root}/s`, { chunkSize: 3, offset: 1 }))
        assert.deepStrictEqual(Array.from(chunks, text), ["bcd"])
      }))

    test("temporary files live in their own directory, removed with the scope", (fs, root) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const path = yield* fs.makeTempFileScoped({ directory: root, prefix: "seg-", suffix: ".tmp" }).pipe(
          Scope.provide(scope)
        )
        assert.isTrue(path.startsWith(`${root}/seg-`) && path.endsWith(".tmp"))
        assert.strictEqual(sizeOf(yield* fs.stat(path)), 0n)
        yield* Scope.close(scope, Exit.void)
        assert.deepStrictEqual(yield* fs.readDirectory(root), [])
      }))
  })

sharedSuite("MemoryFileSystem", MemoryFileSystem.layer)
sharedSuite("NodeFileSystem (the reference)", NodeFileSystem.layer)

describe("MemoryFileSystem only", () => {
  it.effect("a file opened in a scope is closed with it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const scope = yield* Scope.make()
      const file = yield* fs.open("/tmp/f", { flag: "a+" }).pipe(Scope.provide(scope))
      yield* file.writeAll(bytes("kept"))
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(yield* failure(file.writeAll(bytes("lost"))), "Unknown")
      assert.strictEqual(yield* failure(file.read(new Uint8Array(4), { position: 0n })), "Unknown")
      assert.strictEqual(yield* failure(file.stat), "Unknown")
      assert.strictEqual(yield* fs.readFileString("/tmp/f"), "kept")
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("errors name the module, method and path", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const error = yield* Effect.flip(fs.readFile("/data/missing.log"))
      assert.strictEqual(error._tag, "PlatformError")
      assert.strictEqual(error.reason._tag, "NotFound")
      assert.include(error.message, "FileSystem.readFile (/data/missing.log)")
      const handled = yield* fs.readFile("/data/missing.log").pipe(
        Effect.catchTag("PlatformError", (e) => Effect.succeed(e.reason._tag === "NotFound" ? "none" : "other"))
      )
      assert.strictEqual(handled, "none")
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("resolves relative paths against /", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      yield* fs.makeDirectory("data/logs", { recursive: true })
      yield* fs.writeFileString("data/logs/../f", "x")
      assert.strictEqual(yield* fs.readFileString("/data/f"), "x")
      assert.strictEqual(yield* fs.realPath("./data//logs/"), "/data/logs")
      assert.deepStrictEqual((yield* fs.readDirectory("/")).sort(), ["data", "tmp"])
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("keeps files across two layers built over the same instance", () =>
    Effect.gen(function*() {
      const shared = MemoryFileSystem.make()
      const write = Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        yield* fs.makeDirectory("/logs", { recursive: true })
        yield* fs.writeFileString("/logs/a", "before restart")
      })
      const read = Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        return yield* fs.readFileString("/logs/a")
      })
      yield* write.pipe(Effect.provide(MemoryFileSystem.layerWith(shared)))
      assert.strictEqual(yield* read.pipe(Effect.provide(MemoryFileSystem.layerWith(shared))), "before restart")
      assert.strictEqual(yield* failure(read.pipe(Effect.provide(MemoryFileSystem.layer))), "NotFound")
    }))

  it.effect("stays fast and correct over many small appends", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const file = yield* fs.open("/tmp/big.log", { flag: "a+" })
      const record = new Uint8Array(100).fill(7)
      for (let i = 0; i < 100_000; i++) {
        record[0] = i & 0xff
        yield* file.writeAll(record)
      }
      assert.strictEqual(sizeOf(yield* file.stat), 10_000_000n)
      const last = yield* file.readAlloc(100, { position: 9_999_900n })
      assert.deepStrictEqual(Option.map(last, (b) => [b[0], b[99], b.length]), Option.some([99_999 & 0xff, 7, 100]))
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("takes timestamps from the Clock", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      yield* TestClock.adjust(5_000)
      yield* fs.writeFileString("/tmp/f", "x")
      assert.deepStrictEqual((yield* fs.stat("/tmp/f")).mtime, Option.some(new Date(5_000)))
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("rejects what it cannot do with clear errors", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      assert.strictEqual(yield* failure(Stream.runDrain(fs.watch("/tmp"))), "Unknown")
      yield* fs.writeFileString("/tmp/f", "x")
      const reader = yield* fs.open("/tmp/f")
      assert.strictEqual(yield* failure(reader.writeAll(bytes("y"))), "Unknown")
      assert.strictEqual(yield* failure(reader.readAlloc(-1)), "BadArgument")
      assert.strictEqual(yield* failure(fs.rename("/tmp", "/tmp/inside")), "Unknown")
    }).pipe(Effect.provide(MemoryFileSystem.layer)))
})
