// The throwaway PostgreSQL server of bench/postgres.ts (test/support/Postgres.ts for the tests): it starts (as
// nobody when run as root), answers through the broker's client layer (src/layers/sql/PgClient.ts), hands out
// fresh databases and drops them, and stops.
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { SqlClient } from "effect/sql/SqlClient"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as PgClient from "../../src/layers/sql/PgClient.ts"
import { type Postgres, postgresInstalled, requirePostgres, startPostgres } from "../support/Postgres.ts"

describe("PostgreSQL test server", () => {
  requirePostgres()
  let pg: Postgres | undefined
  beforeAll(async () => {
    if (postgresInstalled) pg = await startPostgres()
  }, 60_000)
  afterAll(() => pg?.stop())

  const query = <A>(url: string, f: (sql: SqlClient) => Effect.Effect<A, unknown>) =>
    Effect.runPromise(Effect.gen(function*() { return yield* f(yield* SqlClient) }).pipe(Effect.provide(PgClient.layerFromUrl(url)), Effect.scoped))

  it.runIf(postgresInstalled)("answers select 1 and hands out fresh databases", async () => {
    const rows = await query(pg!.url, (sql) => sql<{ one: number }>`select 1 as one`)
    assert.deepStrictEqual(rows.map((r) => r.one), [1])
    const a = await pg!.createDatabase()
    const b = await pg!.createDatabase()
    assert.notStrictEqual(a, b)
    await query(a, (sql) => sql`create table t (x int)`)
    const tables = await query(b, (sql) => sql<{ n: number }>`select count(*)::int as n from pg_tables where tablename = 't'`)
    assert.strictEqual(tables[0]!.n, 0)
  })

  it.runIf(postgresInstalled)("drops a database by its URL, even with a session open on it", async () => {
    const url = await pg!.createDatabase()
    const name = new URL(url).pathname.slice(1)
    const count = () => query(pg!.url, (sql) => sql<{ n: number }>`select count(*)::int as n from pg_database where datname = ${name}`)
    assert.strictEqual((await count())[0]!.n, 1)
    await Effect.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient
      yield* sql`select 1`
      yield* Effect.promise(() => pg!.dropDatabase(url))
    }).pipe(Effect.provide(PgClient.layerFromUrl(url)), Effect.scoped))
    assert.strictEqual((await count())[0]!.n, 0)
  })

  it.runIf(postgresInstalled)("runs as an unprivileged user and stops by its pid", async () => {
    const other = await startPostgres()
    const user = await query(other.url, (sql) => sql<{ u: string }>`select current_user as u`)
    assert.strictEqual(user[0]!.u, "postgres")
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${other.pid}/status`, "utf8"))![1])
    if (process.getuid!() === 0) assert.strictEqual(uid, 65534)
    else assert.strictEqual(uid, process.getuid!())
    const pid = other.pid
    await other.stop()
    assert.throws(() => process.kill(pid, 0))
  }, 60_000)

  it.runIf(postgresInstalled)("halts and resumes on the same port with the same data", async () => {
    const url = await pg!.createDatabase()
    await query(url, (sql) => sql`create table kept (x int)`.pipe(Effect.andThen(sql`insert into kept values (42)`)))
    await pg!.halt()
    const down = await Effect.runPromise(Effect.exit(
      Effect.gen(function*() {
        return yield* (yield* SqlClient)`select 1`
      }).pipe(Effect.provide(PgClient.layerFromUrl(url)), Effect.scoped)
    ))
    assert.strictEqual(down._tag, "Failure")
    await pg!.resume()
    const rows = await query(url, (sql) => sql<{ x: number }>`select x from kept`)
    assert.deepStrictEqual(rows.map((r) => r.x), [42])
  }, 60_000)
})
