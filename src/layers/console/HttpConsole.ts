// The HTTP listener of `console.listener=http://HOST:PORT`, on Effect's HTTP server and router and the broker's
// runtime: `/metrics` (Prometheus text, services/metrics/Exposition.ts), `/api/...` (the console's JSON API,
// services/console/ConsoleApi.ts) and the web console's bundled files (`dist/console`, built by `npm run build`).
// With SASL listeners the console asks for the same users (HTTP Basic: PLAIN users of the JAAS config, or SCRAM
// credentials) and acts as that principal; with TLS or an authorizer but no SASL it must be bound to loopback.
// Every second it samples the counters for the rates, and each group's lag for its chart.
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { ByteSize, Context, Effect, Layer, Schedule } from "effect"
import { HttpIncomingMessage, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, extname, join, normalize } from "node:path"
import { fileURLToPath } from "node:url"
import type { ConnectionInfo } from "../../services/api/Handler.ts"
import { ANONYMOUS } from "../../services/auth/Authorizer.ts"
import { BrokerConfig, InvalidConfig } from "../../services/config/BrokerConfig.ts"
import * as Api from "../../services/console/ConsoleApi.ts"
import { ConsoleError } from "../../services/console/ConsoleApi.ts"
import { groupOffsets } from "../../services/console/Inspect.ts"
import type { Rates } from "../../services/console/Views.ts"
import { GroupCoordinator } from "../../services/group/GroupCoordinator.ts"
import { BrokerMetrics } from "../../services/metrics/BrokerStats.ts"
import { Listener } from "../../services/network/Listener.ts"
import { scrape } from "../../services/metrics/Exposition.ts"
import { Hashing } from "../../services/security/Hashing.ts"
import { makeCredential, SCRAM_MECHANISMS } from "../../services/security/Scram.ts"
import { ScramCredentials } from "../../services/security/ScramCredentials.ts"

// Required, not imported: an import of node:http reads all its exports, among them the lazy WebSocket ones,
// which load Node's bundled undici (about 50 ms of every start, console on or off).
const Http = createRequire(import.meta.url)("node:http") as typeof import("node:http")

/** Where the console is served, once it is. */
export class ConsoleServer extends Context.Service<ConsoleServer, { readonly url: string }>()("kafka/ConsoleServer") {}

const VERSION = "0.1.0"

/** The bundle of the web console: beside the bundled broker's `dist/broker/`, or next to the sources' `src/` (and
 * tsc's `dist/layers/console/`). The bundle's own folder comes first: for an installed package, three levels up
 * from `dist/broker/` is the user's project, which may have a `dist/console` of its own. */
const assetsDir = (): string => {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const candidate of [join(here, "../console"), join(here, "../../../dist/console")]) {
    if (existsSync(join(candidate, "index.html"))) return candidate
  }
  return join(here, "../../../dist/console")
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".png": "image/png",
  ".json": "application/json",
  ".map": "application/json"
}

const isLoopback = (host: string) => host === "127.0.0.1" || host === "::1" || host === "localhost" || host.startsWith("127.")

const json = (body: unknown, status = 200) => HttpServerResponse.jsonUnsafe(body, { status })
const failure = (e: ConsoleError) => json({ error: e.error, ...(e.errorCode === undefined ? {} : { errorCode: e.errorCode }) }, e.status)

/** A broker error with a Kafka code (a storage error, a partition deleted meanwhile) as JSON; anything else is a defect. */
const kafkaFailure = (e: unknown) => {
  const code = (e as { readonly code?: unknown }).code
  if (typeof code !== "number") return Effect.die(e)
  const status = code === 3 ? 404 : code === 56 ? 500 : 400
  return Effect.succeed(json({ error: (e as Error).message, errorCode: code }, status))
}

/** The largest request body the actions read (a produced message's value included). */
const MAX_BODY = 4 * 1024 * 1024

/** Samples kept: one a second, five minutes. */
const SAMPLES = 300

export const make = Effect.gen(function*() {
  const config = yield* BrokerConfig
  const spec = config.consoleListener
  if (spec === undefined) return ConsoleServer.of({ url: "" })
  const sasl = config.listeners.some((l) => l.protocol === "SASL_PLAINTEXT" || l.protocol === "SASL_SSL")
  const secured = config.authorizerEnabled || config.listeners.some((l) => l.protocol !== "PLAINTEXT")
  if (secured && !sasl && !isLoopback(spec.host)) {
    return yield* new InvalidConfig({
      message: `console.listener: with TLS or an authorizer but no SASL listener the console has no login, so it must be bound to loopback (http://127.0.0.1:${spec.port}), got ${spec.host === "" ? "all interfaces" : spec.host}`
    })
  }
  const services = yield* Effect.context<
    BrokerConfig | BrokerMetrics | GroupCoordinator | ScramCredentials | Hashing | Layer.Success<never>
  >()
  const stats = yield* BrokerMetrics
  const bound = (yield* Listener).listeners
  const scram = yield* ScramCredentials
  const hashing = yield* Hashing
  const plainUsers = new Map(config.listeners.flatMap((l) => [...l.plainUsers]))

  // Rates and lag histories, sampled every second.
  const rates: Array<Rates["samples"][number]> = []
  const lags = new Map<string, Array<{ at: number; lag: number }>>()
  let last = { messagesIn: stats.messagesIn, bytesIn: stats.bytesIn, bytesOut: stats.bytesOut, at: Date.now() }
  const sample = Effect.gen(function*() {
    const now = Date.now()
    const seconds = Math.max(0.001, (now - last.at) / 1000)
    rates.push({
      at: now,
      messagesIn: (stats.messagesIn - last.messagesIn) / seconds,
      bytesIn: (stats.bytesIn - last.bytesIn) / seconds,
      bytesOut: (stats.bytesOut - last.bytesOut) / seconds
    })
    if (rates.length > SAMPLES) rates.shift()
    last = { messagesIn: stats.messagesIn, bytesIn: stats.bytesIn, bytesOut: stats.bytesOut, at: now }
    const listed = yield* (yield* GroupCoordinator).list
    const seen = new Set<string>()
    for (const g of listed) {
      seen.add(g.groupId)
      const lag = (yield* groupOffsets(g.groupId)).reduce((n, o) => n + o.lag, 0)
      const history = lags.get(g.groupId) ?? []
      history.push({ at: now, lag })
      if (history.length > SAMPLES) history.shift()
      lags.set(g.groupId, history)
    }
    for (const id of lags.keys()) if (!seen.has(id)) lags.delete(id)
  })
  yield* sample.pipe(
    Effect.catchCause((cause) => Effect.logWarning("console: sampling failed", cause)),
    Effect.repeat(Schedule.spaced("1 second")),
    Effect.forkScoped
  )

  /** The principal of an HTTP request: its Basic login with SASL listeners, else ANONYMOUS; undefined: refused. */
  const principalOf = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
    if (!sasl) return ANONYMOUS
    const header = request.headers["authorization"] ?? ""
    const m = /^Basic\s+(.+)$/i.exec(header)
    if (m === null) return undefined
    const decoded = Buffer.from(m[1]!, "base64").toString("utf8")
    const colon = decoded.indexOf(":")
    if (colon <= 0) return undefined
    const user = decoded.slice(0, colon)
    const password = decoded.slice(colon + 1)
    const plain = plainUsers.get(user)
    if (plain !== undefined && hashing.timingSafeEqual(hashing.hash("sha256", plain), hashing.hash("sha256", password))) return `User:${user}`
    for (const mechanism of SCRAM_MECHANISMS) {
      const stored = scram.lookup(mechanism, user)
      if (stored === undefined) continue
      const given = makeCredential(hashing, mechanism, password, stored.iterations, stored.salt)
      if (hashing.timingSafeEqual(given.storedKey, stored.storedKey)) return `User:${user}`
    }
    return undefined
  }

  const server = yield* NodeHttpServer.make(() => Http.createServer(), {
    port: spec.port,
    ...(spec.host === "" ? {} : { host: spec.host })
  })
  const address = server.address
  const port = address._tag === "UnixPathAddress" ? spec.port : address.port
  const shownHost = spec.host === "" ? "127.0.0.1" : spec.host.includes(":") ? `[${spec.host}]` : spec.host
  const url = `http://${shownHost}:${port}`

  /** A route's answer: as the request's principal, failures as JSON, services of the broker provided. */
  const route = (
    f: (request: HttpServerRequest.HttpServerRequest, connection: ConnectionInfo, params: Readonly<Record<string, string | undefined>>) => Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, any>
  ) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const params = yield* HttpRouter.params
      const principal = principalOf(request)
      if (principal === undefined) {
        return HttpServerResponse.jsonUnsafe({ error: "login required: a SASL user of this broker" }, {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="kafka broker console", charset="UTF-8"' }
        })
      }
      const connection: ConnectionInfo = {
        id: 0,
        localHost: shownHost,
        localPort: port,
        remote: `${request.remoteAddress._tag === "Some" ? request.remoteAddress.value : "unknown"}:0`,
        principal
      }
      return yield* f(request, connection, params).pipe(
        Effect.catch((e) => (e instanceof ConsoleError ? Effect.succeed(failure(e)) : kafkaFailure(e))),
        Effect.provide(services)
      )
    }).pipe(
      Effect.catchCause((cause) =>
        Effect.as(Effect.logError("console: request failed", cause), json({ error: "internal error: see the broker's log" }, 500))
      )
    ) as Effect.Effect<HttpServerResponse.HttpServerResponse>

  // The actions take small JSON bodies: anything larger than MAX_BODY is refused before it is read whole.
  const body = <A>(request: HttpServerRequest.HttpServerRequest) =>
    request.json.pipe(
      Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(MAX_BODY)),
      Effect.flatMap((b) =>
        typeof b === "object" && b !== null && !Array.isArray(b)
          ? Effect.succeed(b as A)
          : Effect.fail(new ConsoleError({ status: 400, error: "expected a JSON object" }))
      ),
      Effect.mapError((e) =>
        e instanceof ConsoleError ? e : new ConsoleError({ status: 400, error: `expected a JSON object of at most ${MAX_BODY} bytes` })
      )
    )
  const query = (request: HttpServerRequest.HttpServerRequest) => new URL(request.url, "http://console").searchParams
  const num = (v: string | null) => (v === null || v === "" || !/^-?\d+$/.test(v) ? undefined : Number(v))

  const router = yield* HttpRouter.make
  const get = (path: `/${string}`, f: Parameters<typeof route>[0]) => router.add("GET", path, route(f))
  yield* router.add("GET", "/metrics", route(() => {
    const cpu = process.cpuUsage()
    const memory = process.memoryUsage()
    return Effect.map(
      scrape({
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        residentBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        heapTotalBytes: memory.heapTotal,
        startTimeSeconds: Math.round(Date.now() / 1000 - process.uptime())
      }),
      (text) => HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" })
    )
  }))
  yield* get("/api/overview", () => Effect.map(Api.overview(bound, VERSION), (v) => json(v)))
  yield* get("/api/brokers", () => Effect.map(Api.brokers(bound), (v) => json(v)))
  yield* get("/api/topics", () => Effect.map(Api.topics, (v) => json(v)))
  yield* get("/api/rates", () => Effect.succeed(json({ samples: rates } satisfies Rates)))
  yield* get("/api/topics/:name", (_, c, p) => Effect.map(Api.topic(p["name"]!, c), (v) => json(v)))
  yield* get("/api/topics/:name/messages", (r) => {
    const q = query(r)
    const from = q.get("from") ?? "newest"
    if (!["newest", "oldest", "offset", "timestamp"].includes(from)) {
      return Effect.fail(new ConsoleError({ status: 400, error: "from: newest, oldest, offset or timestamp" }))
    }
    const partition = q.get("partition")
    return Effect.map(
      Api.messages(decodeURIComponent(new URL(r.url, "http://console").pathname.split("/")[3]!), {
        ...(partition === null || partition === "all" ? {} : { partition: num(partition) ?? -1 }),
        from: from as Api.MessageQuery["from"],
        ...(num(q.get("offset")) === undefined ? {} : { offset: num(q.get("offset"))! }),
        ...(num(q.get("timestamp")) === undefined ? {} : { timestamp: num(q.get("timestamp"))! }),
        limit: num(q.get("limit")) ?? 50
      }),
      (v) => json(v)
    )
  })
  yield* get("/api/groups", () => Effect.map(Api.groups, (v) => json(v)))
  yield* get("/api/groups/:id", (_, __, p) => Effect.map(Api.group(p["id"]!, lags.get(p["id"]!) ?? []), (v) => json(v)))
  yield* router.add("POST", "/api/topics", route((r, c) =>
    Effect.flatMap(body<Parameters<typeof Api.createTopic>[0]>(r), (b) => Effect.map(Api.createTopic(b, c), (v) => json(v, 201))))
  )
  yield* router.add("DELETE", "/api/topics/:name", route((_, c, p) => Effect.as(Api.deleteTopic(p["name"]!, c), HttpServerResponse.empty({ status: 204 }))))
  yield* router.add("POST", "/api/topics/:name/messages", route((r, c, p) =>
    Effect.flatMap(body<Parameters<typeof Api.produce>[1]>(r), (b) => Effect.map(Api.produce(p["name"]!, b, c), (v) => json(v, 201))))
  )
  yield* router.add("POST", "/api/groups/:id/offsets", route((r, c, p) =>
    Effect.flatMap(body<Parameters<typeof Api.resetOffsets>[1]>(r), (b) =>
      Effect.andThen(Api.resetOffsets(p["id"]!, b, c), Effect.map(Api.group(p["id"]!, lags.get(p["id"]!) ?? []), (v) => json(v)))))
  )

  // The web console's files; any other path under /api is a JSON 404.
  const assets = assetsDir()
  yield* router.add("GET", "/api/*", route(() => Effect.fail(new ConsoleError({ status: 404, error: "no such API" }))))
  yield* router.add("GET", "/*", route((r) => {
    const path = new URL(r.url, "http://console").pathname
    const file = normalize(path === "/" ? "/index.html" : path)
    const full = join(assets, file)
    if (file.includes("..") || !existsSync(full)) {
      return Effect.succeed(
        existsSync(join(assets, "index.html"))
          ? HttpServerResponse.text("not found", { status: 404 })
          : HttpServerResponse.text(`The web console is not built: run npm run build (looked in ${assets}).`, { status: 404 })
      )
    }
    return Effect.succeed(HttpServerResponse.uint8Array(readFileSync(full), {
      contentType: CONTENT_TYPES[extname(full)] ?? "application/octet-stream",
      headers: { "cache-control": "no-cache" }
    }))
  }))

  yield* Effect.forkScoped(server.serve(router.asHttpEffect()))
  yield* Effect.logInfo(`console listening on ${url}${sasl ? " — login with the broker's SASL users" : ""}`)
  return ConsoleServer.of({ url })
})

export const layer = Layer.effect(ConsoleServer, make)
