// `BROKER_TEST_LOG_STORE=postgresql`: every broker TestLayers builds keeps its partition logs in PostgreSQL
// (layers/sql/SqlLogStore.ts) instead of files, to run the handler suites against the SQL LogStore: one throwaway
// server per test file (test/support/Postgres.ts), one database per file system, so that a restart over the same
// file system, or over a wrapper of it (`sameLogs`: the faulty and yielding file systems), finds its logs again.
// Tests that look at log files directly, or inject file faults, do not apply there.
import type { FileSystem } from "effect"
import { afterAll } from "vitest"
import { type Postgres, startPostgres } from "./Postgres.ts"

export const sqlLogStores = process.env["BROKER_TEST_LOG_STORE"] === "postgresql"

let server: Promise<Postgres> | undefined
if (sqlLogStores) {
  afterAll(async () => {
    if (server !== undefined) await (await server).stop()
  })
}

const databases = new WeakMap<FileSystem.FileSystem, Promise<string>>()
const inner = new WeakMap<FileSystem.FileSystem, FileSystem.FileSystem>()

/** `wrapper` is `fs` with something around it: a broker over either keeps its logs in the same database. */
export const sameLogs = (wrapper: FileSystem.FileSystem, fs: FileSystem.FileSystem): void => {
  inner.set(wrapper, fs)
}

/** The URL of the database of the brokers over `fs` (made, and the server started, on first use). */
export const databaseFor = (fs: FileSystem.FileSystem): Promise<string> => {
  let root = fs
  for (let next = inner.get(root); next !== undefined; next = inner.get(root)) root = next
  let url = databases.get(root)
  if (url === undefined) {
    server ??= startPostgres()
    url = server.then((s) => s.createDatabase())
    databases.set(root, url)
  }
  return url
}
