// A throwaway PostgreSQL server, for the tests (through test/support/Postgres.ts) and the benchmark's
// scenario 10: a fresh data directory in a temp dir (initdb, trust authentication, fsync off), a free port on
// 127.0.0.1, run as an unprivileged user when run as root (`postgres` refuses to run as root), stopped by its pid
// and its directory removed.
//
//   const pg = await startPostgres()          // in beforeAll
//   const url = await pg.createDatabase()     // a fresh, empty database per test: postgresql://postgres@127.0.0.1:PORT/db_3
//   await pg.dropDatabase(url)                // gone again (its sessions ended first)
//   await pg.halt(); await pg.resume()        // the database unavailable for a while, then back
//   await pg.stop()                           // in afterAll
//
// Found at Debian's /usr/lib/postgresql/<version>/bin (the newest), else `postgres` on the PATH. Without vitest:
// test/support/Postgres.ts adds `requirePostgres()`, the tests' skip (or CI failure) when it is not installed.
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const POSTGRES_INSTALL = "apt-get install -y postgresql"

/** The directory holding `initdb` and `postgres`, or undefined when PostgreSQL is not installed. */
export const postgresBin: string | undefined = (() => {
  const debian = "/usr/lib/postgresql"
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, "bin", "postgres")) && existsSync(join(debian, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a))
    if (versions.length > 0) return join(debian, versions[0]!, "bin")
  }
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    if (dir !== "" && existsSync(join(dir, "postgres")) && existsSync(join(dir, "initdb"))) return dir
  }
  return undefined
})()

export const postgresInstalled = postgresBin !== undefined

export interface Postgres {
  /** `postgresql://postgres@127.0.0.1:PORT/postgres`: the server's default database. */
  readonly url: string
  readonly port: number
  /** The postmaster's pid (-1 while halted). */
  readonly pid: number
  /** Creates an empty database (a fresh name unless given) and resolves with its URL. */
  readonly createDatabase: (name?: string) => Promise<string>
  /** Drops a database (by its URL or name), ending its sessions first (PostgreSQL 13+). */
  readonly dropDatabase: (urlOrName: string) => Promise<void>
  /** Everything the server logged so far. */
  readonly output: () => string
  /** Takes the server down (fast shutdown: sessions are cut), keeping its data: the database is unavailable. */
  readonly halt: () => Promise<void>
  /** Brings a halted server back on the same port with the same data. */
  readonly resume: () => Promise<void>
  /** Fast shutdown (SIGINT to the postmaster), waits for it to exit, removes the data directory. */
  readonly stop: () => Promise<void>
}

const NOBODY = 65534

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p))

/** The uid/gid to run as: ours, or nobody's when we are root. */
const runAs = (): { uid: number; gid: number } | undefined =>
  process.getuid !== undefined && process.getuid() === 0 ? { uid: NOBODY, gid: NOBODY } : undefined

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const run = (file: string, args: ReadonlyArray<string>, user: { uid: number; gid: number } | undefined): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(file, args, { ...user, env: { ...process.env, LC_ALL: "C", HOME: tmpdir() } }, (error, stdout, stderr) =>
      error ? reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`)) : resolve(stdout))
  })

let databases = 0

/** Starts a server; retries on another port when the probed one was taken meanwhile. */
export const startPostgres = async (options: { readonly startTimeoutMs?: number } = {}): Promise<Postgres> => {
  if (postgresBin === undefined) throw new Error(`PostgreSQL is not installed: ${POSTGRES_INSTALL}`)
  const bin = postgresBin
  const user = runAs()
  const dir = mkdtempSync(join(tmpdir(), "broker-pg-"))
  if (user !== undefined) chownSync(dir, user.uid, user.gid)
  const data = join(dir, "data")
  const timeoutMs = options.startTimeoutMs ?? 30_000
  await run(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"], user)

  let server: Running | undefined
  let lastError: unknown
  let port = 0
  for (let attempt = 0; attempt < 5 && server === undefined; attempt++) {
    port = await freePort()
    try {
      server = await launch(bin, dir, data, port, user, timeoutMs)
    } catch (error) {
      lastError = error
      if (!String(error).includes("already in use")) break
    }
  }
  if (server === undefined) {
    rmSync(dir, { recursive: true, force: true })
    throw lastError
  }
  let log = ""
  let current: Running | undefined = server
  const halt = async () => {
    if (current === undefined) return
    const stopping = current
    current = undefined
    await stopping.stop()
    log += stopping.output()
  }
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    get pid() {
      return current?.pid ?? -1
    },
    output: () => log + (current?.output() ?? ""),
    createDatabase: async (name) => {
      const db = name ?? `db_${process.pid}_${++databases}`
      await run(join(bin, "createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", db], undefined)
      return `postgresql://postgres@127.0.0.1:${port}/${db}`
    },
    dropDatabase: async (urlOrName) => {
      const db = urlOrName.includes("://") ? decodeURIComponent(new URL(urlOrName).pathname.slice(1)) : urlOrName
      await run(join(bin, "dropdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "--force", db], undefined)
    },
    halt,
    resume: async () => {
      if (current === undefined) current = await launch(bin, dir, data, port, user, timeoutMs)
    },
    stop: async () => {
      await halt()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

interface Running {
  readonly pid: number
  readonly output: () => string
  /** Fast shutdown; resolves once the server has exited. */
  readonly stop: () => Promise<void>
}

const launch = (
  bin: string,
  dir: string,
  data: string,
  port: number,
  user: { uid: number; gid: number } | undefined,
  timeoutMs: number
): Promise<Running> =>
  new Promise((resolve, reject) => {
    // The server dies with the test process even when that is killed (no exit handler runs then): setpriv
    // (util-linux) gives it a parent-death signal before exec'ing it, keeping the pid.
    const [command, prefix] = SETPRIV === undefined ? [join(bin, "postgres"), []] : [SETPRIV, ["--pdeathsig", "QUIT", join(bin, "postgres")]]
    const child: ChildProcess = spawn(command, [
      ...prefix,
      "-D", data,
      "-p", String(port),
      "-k", dir,
      "-c", "listen_addresses=127.0.0.1",
      "-c", "fsync=off",
      "-c", "synchronous_commit=off",
      "-c", "full_page_writes=off",
      "-c", "max_connections=200"
    ], { ...user, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } })
    let log = ""
    let started = false
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    // A test process that exits without stop() must not leave the server running.
    const onExit = () => {
      try {
        child.kill("SIGQUIT")
      } catch {}
    }
    process.once("exit", onExit)
    const timer = setTimeout(() => {
      child.kill("SIGQUIT")
      reject(new Error(`PostgreSQL did not start within ${timeoutMs} ms:\n${log}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      log += chunk.toString()
      if (!started && log.includes("ready to accept connections")) {
        started = true
        clearTimeout(timer)
        resolve({
          pid: child.pid!,
          output: () => log,
          stop: async () => {
            process.removeListener("exit", onExit)
            if (child.exitCode === null && child.signalCode === null) {
              // Fast shutdown: open sessions are ended, as when a database goes away.
              child.kill("SIGINT")
              const killer = setTimeout(() => child.kill("SIGQUIT"), 10_000)
              await exited
              clearTimeout(killer)
            }
          }
        })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code, signal) => {
      if (!started) {
        clearTimeout(timer)
        process.removeListener("exit", onExit)
        reject(new Error(`PostgreSQL exited (${code ?? signal}) before it was ready:\n${log}`))
      }
    })
  })
