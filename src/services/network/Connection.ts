// One client connection, as a Stream: socket bytes → size-prefixed frames → request header and body decoded
// in arrival order → handlers run → responses encoded and written, in request order, each in one write (or, for
// records streamed from the log, in back-to-back writes). Requests run one at a time in arrival order (after
// each, the other connections get their turn), except those that may wait long (a Fetch long poll, a JoinGroup,
// a SyncGroup): those run on fibers of their own while the next requests are handled, and their answers still
// leave in request order. Bad input closes the connection
// with a log line: a frame above `socket.request.max.bytes`, an unknown API key, a version outside the
// advertised range (except ApiVersions, answered with error 35), bytes that do not decode. Nothing a client
// sends can stop the server.
//
// Memory is bounded in bytes, not only in requests. Request bytes read but not yet handled count against the
// broker-wide `queued.max.request.bytes` (a frame is reserved as soon as its size is known; reading waits when
// the budget is spent). A connection stops reading while its unwritten answers hold more than MAX_PENDING_BYTES
// or number MAX_PENDING. Records a Fetch answers from the log are read only when the socket takes them, a
// megabyte at a time, so a client that does not read costs a megabyte, not its fetches' worth.
//
// Quotas: an answer with `throttle_time_ms` above 0 (a client over its byte-rate quota) goes out at once, and then
// the connection reads nothing more from the client until that time has passed since the answer was made, as
// Kafka (2.0+) mutes a throttled channel; a throttled request without an answer (acks=0) mutes it through its
// context.
//
// In tests, a `Faults` service in the context (services/testing) records each request and may answer it with an
// injected error, delay it or close the connection instead; without one (the broker run on its own) nothing of it
// runs but one check per connection.
import { Cause, Clock, Deferred, Duration, Effect, Option, Schema, Stream, Tracer } from "effect"
import * as Socket from "effect/socket/Socket"
import { apiName } from "../../protocol/ApiKeys.ts"
import { ByteReader, type Chunk, isByteSource, MalformedInput } from "../../protocol/Bytes.ts"
import { readRequestBody, responseFrame } from "../../protocol/Frames.ts"
import { readHeaderPrefix } from "../../protocol/Header.ts"
import type { Api } from "../../protocol/Message.ts"
import { ApiVersions } from "../../protocol/messages/ApiVersions.ts"
import { SaslAuthenticate } from "../../protocol/messages/SaslAuthenticate.ts"
import { SaslHandshake } from "../../protocol/messages/SaslHandshake.ts"
import { ANONYMOUS_PRINCIPAL, type SaslSession } from "../security/Sasl.ts"
import { handlers, supportedApis, type HandlerServices } from "../api/Apis.ts"
import { unsupportedVersion } from "../api/ApiVersions.ts"
import { BrokerConfig } from "../config/BrokerConfig.ts"
import { NoResponse, type ConnectionInfo, type RequestContext } from "../api/Handler.ts"
import { BrokerMetrics } from "../metrics/BrokerStats.ts"
import { Cluster } from "../cluster/Cluster.ts"
import { misrouted } from "../cluster/Routing.ts"
import { BufferPool, MIN_POOLED } from "./BufferPool.ts"
import { type Framed, Framer, FrameTooLarge } from "./Framer.ts"
import { RequestBudget } from "./RequestBudget.ts"
import { Faults, type InjectedDisconnect, serve as serveWithFaults } from "../testing/Faults.ts"

/**
 * Responses not yet written, per connection: past this many, or past this many bytes held in memory, the
 * connection stops reading until they are (a client pipelining behind a long poll, or not reading at all,
 * cannot make the broker buffer without limit).
 */
const MAX_PENDING = 32
const MAX_PENDING_BYTES = 4 * 1024 * 1024

/** Records streamed from the log go out in pieces of this size. */
const STREAM_CHUNK = 1024 * 1024

/** How long answers still running may be written after the client stopped sending. */
const LINGER = Duration.seconds(5)

export class UnsupportedRequest extends Schema.TaggedError<UnsupportedRequest>()("UnsupportedRequest", {
  apiKey: Schema.Number,
  apiVersion: Schema.Number
}) {
  override get message() {
    const h = handlers.get(this.apiKey)
    return h === undefined
      ? `${apiName(this.apiKey)} (api key ${this.apiKey}) is not supported`
      : `${h.api.name} v${this.apiVersion} is not supported (versions ${h.minVersion}-${h.maxVersion})`
  }
}

export class MalformedRequest extends Schema.TaggedError<MalformedRequest>()("MalformedRequest", {
  detail: Schema.String
}) {
  override get message() {
    return `malformed request: ${this.detail}`
  }
}

/** Records an answer refers to could not be read from the log while it was being sent: the answer is cut short. */
export class ResponseUnreadable extends Schema.TaggedError<ResponseUnreadable>()("ResponseUnreadable", {
  cause: Schema.Defect()
}) {
  override get message() {
    return `records of a response could not be read from the log: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/** A SASL exchange failed: its answer (58) was written, and the connection closes. */
export class SaslAuthenticationFailed extends Schema.TaggedError<SaslAuthenticationFailed>()("SaslAuthenticationFailed", {
  detail: Schema.String
}) {
  override get message() {
    return `SASL authentication failed: ${this.detail}`
  }
}

/** A request other than ApiVersions, SaslHandshake and SaslAuthenticate before authentication (or past the session). */
export class AuthenticationRequired extends Schema.TaggedError<AuthenticationRequired>()("AuthenticationRequired", {
  apiKey: Schema.Number,
  expired: Schema.Boolean
}) {
  override get message() {
    return this.expired
      ? `${apiName(this.apiKey)} after the SASL session expired (connections.max.reauth.ms) without re-authentication`
      : `${apiName(this.apiKey)} before SASL authentication`
  }
}

/** Produce requests at least this large are gathered into pooled buffers. */
const POOLED_FRAME = 64 * 1024
const PRODUCE_KEY = 0

/** A response's chunks and the bytes of them held in memory (undefined: no response, as for acks=0). */
type Encoded = { readonly chunks: ReadonlyArray<Chunk>; readonly held: number } | undefined

/** A request ready to run: the effect answering it, and whether it may wait long. */
interface Admitted {
  readonly run: Effect.Effect<Encoded, InjectedDisconnect, HandlerServices>
  readonly waits: boolean
  /** Set when the connection closes once this answer is written (a failed SASL login). */
  readonly close?: SaslAuthenticationFailed
}

/** A raw SASL token as kafka-python sends after a v0 SaslHandshake: size-prefixed, no request header. */
const rawToken = (token: Uint8Array): Encoded => {
  const out = new Uint8Array(4 + token.length)
  new DataView(out.buffer).setInt32(0, token.length)
  out.set(token, 4)
  return { chunks: [out], held: out.length }
}

/** A response in request order: written once it and everything before it are done. */
interface Slot {
  done: boolean
  response: Encoded
}

const encodeResponse = <Res>(api: Api<unknown, Res>, version: number, correlationId: number, body: Res): Encoded => {
  const chunks = responseFrame(api, version, correlationId, body)
  let held = 0
  for (const c of chunks) if (c instanceof Uint8Array) held += c.length
  return { chunks, held }
}

/** The client hung up: a clean close, or a write that failed because it had already gone. */
const isPeerClose = (e: unknown) =>
  Socket.isSocketError(e) && (e.reason._tag === "SocketCloseError" || e.reason._tag === "SocketWriteError")

/**
 * Serves one connection until the client closes it or sends something that must close it. `budget` is the
 * broker's request budget (a connection of its own gets one from the configuration).
 */
export const serveConnection = (socket: Socket.Socket, connection: ConnectionInfo, budget?: RequestBudget) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const writer = yield* socket.writer
    const scope = yield* Effect.scope
    const pool = yield* BufferPool
    const stats = yield* BrokerMetrics
    const listenerName = connection.listener?.name ?? config.listener.name
    stats.connected(listenerName, 1)
    yield* Effect.addFinalizer(() => Effect.sync(() => stats.connected(listenerName, -1)))
    const requests = budget ?? new RequestBudget(config.queuedMaxRequestBytes)
    /** Large Produce requests spread over socket reads are gathered into pooled buffers, given back once handled. */
    const allocate = (size: number, first: Uint8Array) =>
      size >= POOLED_FRAME && first.length >= 2 && first[0] === 0 && first[1] === PRODUCE_KEY ? pool.acquire(size, POOLED_FRAME) : new Uint8Array(size)

    /** Nothing more is read from the client before this time: a throttled answer mutes the connection. */
    let mutedUntil = 0
    const mute = (untilMs: number) => {
      mutedUntil = Math.max(mutedUntil, untilMs)
    }
    const muteAfter = (response: unknown) => {
      const throttle = (response as { readonly throttleTimeMs?: unknown }).throttleTimeMs
      if (typeof throttle !== "number" || throttle <= 0) return Effect.void
      return Effect.map(Clock.currentTimeMillis, (now) => mute(now + throttle))
    }
    const whileMuted = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      now >= mutedUntil ? Effect.void : Effect.sleep(Duration.millis(mutedUntil - now)))

    const sasl = connection.sasl
    connection.principal ??= ANONYMOUS_PRINCIPAL
    // Fault injection and request recording, in tests only (services/testing): absent, this is one check.
    const faults = Option.getOrUndefined(yield* Effect.serviceOption(Faults))
    const nodeId = connection.nodeId ?? config.nodeId
    const cluster = yield* Cluster.current
    // A span per request only when a tracer that keeps them is installed (OTLP export, a test's): Effect's
    // built-in one records nothing, and making a span costs a small request a quarter of its time.
    const tracing = (yield* Tracer.Tracer) !== Tracer.nativeTracer

    /** SaslHandshake and SaslAuthenticate on a SASL listener: answered from the connection's SASL state. */
    const saslRequest = (apiKey: number, apiVersion: number, correlationId: number, r: ByteReader, session: SaslSession): Admitted => {
      if (apiKey === SaslHandshake.key) {
        const { body } = readRequestBody(SaslHandshake, apiVersion, r)
        const answer = session.handshake(body.mechanism, apiVersion)
        return { run: Effect.succeed(encodeResponse(SaslHandshake, apiVersion, correlationId, answer)), waits: false }
      }
      const { body } = readRequestBody(SaslAuthenticate, apiVersion, r)
      const result = session.authenticate(body.authBytes, Date.now())
      const answer = (errorCode: number, errorMessage: string | null, authBytes: Uint8Array, sessionLifetimeMs: number) =>
        Effect.succeed(encodeResponse(SaslAuthenticate, apiVersion, correlationId, { errorCode, errorMessage, authBytes, sessionLifetimeMs }))
      if (result._tag === "Failed") {
        return {
          run: answer(result.errorCode, result.message, new Uint8Array(0), 0),
          waits: false,
          close: new SaslAuthenticationFailed({ detail: result.message })
        }
      }
      if (result._tag === "Continue") return { run: answer(0, null, result.token, 0), waits: false }
      connection.principal = session.principal
      return { run: Effect.andThen(Effect.logInfo(`authenticated as ${session.principal}`), answer(0, null, result.token, result.sessionLifetimeMs)), waits: false }
    }

    /** A raw token after a v0 handshake: answered raw; a failure closes without an answer, as Kafka does. */
    const rawSasl = (frame: Uint8Array, session: SaslSession): Admitted | SaslAuthenticationFailed => {
      const result = session.authenticate(frame, Date.now())
      if (result._tag === "Failed") return new SaslAuthenticationFailed({ detail: result.message })
      if (result._tag === "Done") connection.principal = session.principal
      const encoded = rawToken(result.token)
      return {
        run: result._tag === "Done" ? Effect.as(Effect.logInfo(`authenticated as ${session.principal}`), encoded) : Effect.succeed(encoded),
        waits: false
      }
    }

    /** Decodes one frame into the effect that answers it. */
    const admit = (
      frame: Uint8Array | FrameTooLarge
    ): Admitted | FrameTooLarge | UnsupportedRequest | MalformedRequest | SaslAuthenticationFailed | AuthenticationRequired => {
      if (frame instanceof FrameTooLarge) return frame
      if (sasl !== undefined && sasl.raw) return rawSasl(frame, sasl)
      try {
        const r = new ByteReader(frame)
        const { apiKey, apiVersion, correlationId } = readHeaderPrefix(r)
        const h = handlers.get(apiKey)
        if (h === undefined) return new UnsupportedRequest({ apiKey, apiVersion })
        const { api } = h
        if (apiVersion < h.minVersion || apiVersion > h.maxVersion) {
          if (apiKey !== ApiVersions.key) return new UnsupportedRequest({ apiKey, apiVersion })
          const encoded = encodeResponse(ApiVersions, 0, correlationId, unsupportedVersion(supportedApis))
          return { run: Effect.succeed(encoded), waits: false }
        }
        if (sasl !== undefined) {
          if (apiKey === SaslHandshake.key || apiKey === SaslAuthenticate.key) return saslRequest(apiKey, apiVersion, correlationId, r, sasl)
          if (apiKey !== ApiVersions.key && (!sasl.authenticated || sasl.expired(Date.now()))) {
            return new AuthenticationRequired({ apiKey, expired: sasl.authenticated })
          }
        }
        const { clientId, body: request } = readRequestBody(api, apiVersion, r)
        const context: RequestContext = { apiVersion, correlationId, clientId, connection, mute }
        // From the frame read to the answer encoded, waiting behind earlier requests included (Kafka's TotalTimeMs).
        const readAt = performance.now()
        const elsewhere = misrouted(cluster, nodeId, api, apiVersion, request, clientId)
        const handled = elsewhere !== undefined
          ? Effect.succeed(elsewhere)
          : faults === undefined
          ? h.handle(request, context)
          : serveWithFaults(faults, h, request, context, nodeId)
        const answered = handled.pipe(
          Effect.tap((response) => (response === NoResponse ? Effect.void : muteAfter(response))),
          Effect.map((response): Encoded => {
            const encoded = response === NoResponse ? undefined : encodeResponse(api, apiVersion, correlationId, response)
            stats.request(api.name, performance.now() - readAt)
            return encoded
          })
        )
        const run = tracing
          ? answered.pipe(Effect.withSpan(
            api.name,
            { attributes: { "kafka.api_version": apiVersion, "kafka.correlation_id": correlationId, "kafka.client_id": clientId ?? "" } },
            // A stack trace per request costs more than the request itself on the hot path.
            { captureStackTrace: false }
          ))
          : answered
        return { run, waits: h.waits(request) }
      } catch (e) {
        if (e instanceof MalformedInput) return new MalformedRequest({ detail: e.message })
        throw e
      }
    }

    /**
     * Writes one response: in one write when it is all in memory, else its records read from the log a piece at
     * a time, each piece written (and taken by the socket) before the next is read.
     */
    const write = (chunks: ReadonlyArray<Chunk>): Effect.Effect<void, Socket.SocketError | ResponseUnreadable> => {
      if (!chunks.some(isByteSource)) return writer.writeAll(chunks as [Uint8Array, ...Array<Uint8Array>])
      return Effect.gen(function*() {
        let batch: Array<Uint8Array> = []
        let pooled: Array<Uint8Array> = []
        let bytes = 0
        const send = Effect.suspend(() => {
          const out = batch as [Uint8Array, ...Array<Uint8Array>]
          const done = pooled
          batch = []
          pooled = []
          bytes = 0
          // A pooled piece is a megabyte: a write that large waits until the socket has taken it all, after
          // which its buffer can be used again.
          return Effect.map(writer.writeAll(out), () => {
            for (const b of done) pool.release(b)
          })
        })
        for (const chunk of chunks) {
          if (chunk instanceof Uint8Array) {
            batch.push(chunk)
            bytes += chunk.length
            continue
          }
          for (let offset = 0; offset < chunk.length; offset += STREAM_CHUNK) {
            const n = Math.min(STREAM_CHUNK, chunk.length - offset)
            const piece = pool.acquire(n)
            yield* chunk.read(piece, offset).pipe(Effect.mapError((cause) => new ResponseUnreadable({ cause })))
            batch.push(piece)
            if (n >= MIN_POOLED) pooled.push(piece)
            bytes += n
            if (bytes >= STREAM_CHUNK) yield* send
          }
        }
        if (batch.length > 0) yield* send
      })
    }

    // Responses in request order. The writer drains the head while it is done; checking the head and giving up
    // the writer happen in one synchronous step, so a response finishing meanwhile is never left behind.
    const slots: Array<Slot> = []
    /** Bytes held in memory by responses done and not yet written. */
    let pendingBytes = 0
    let writing = false
    let room: Deferred.Deferred<void> | undefined
    let idle: Deferred.Deferred<void> | undefined
    const hasRoom = () => slots.length < MAX_PENDING && pendingBytes <= MAX_PENDING_BYTES
    const drain: Effect.Effect<void, Socket.SocketError | ResponseUnreadable> = Effect.suspend(() => {
      const head = slots[0]
      if (head === undefined || !head.done) {
        writing = false
        if (head === undefined && idle !== undefined) Deferred.doneUnsafe(idle, Effect.void)
        return Effect.void
      }
      slots.shift()
      const response = head.response
      if (response === undefined) return drain
      return Effect.andThen(write(response.chunks), Effect.suspend(() => {
        pendingBytes -= response.held
        if (room !== undefined && hasRoom()) {
          Deferred.doneUnsafe(room, Effect.void)
          room = undefined
        }
        return drain
      }))
    })
    const flush = Effect.suspend(() => {
      if (writing) return Effect.void
      writing = true
      return drain
    })

    /** A failure of a request running on its own fiber (a write to a gone client, a defect) ends the connection. */
    const failed = Deferred.makeUnsafe<never, Socket.SocketError | ResponseUnreadable | InjectedDisconnect>()

    const waitForRoom = Effect.suspend(() => {
      if (hasRoom()) return Effect.void
      room ??= Deferred.makeUnsafe<void>()
      return Deferred.await(room)
    })

    /** Whether the next whole frame was already reserved while it arrived. */
    let reserved = -1

    const handle = (frame: Framed) => (mutedUntil === 0 ? handleFrame(frame) : Effect.andThen(whileMuted, handleFrame(frame)))

    const handleFrame = (frame: Framed) =>
      Effect.suspend((): Effect.Effect<
        void,
        | Socket.SocketError
        | ResponseUnreadable
        | FrameTooLarge
        | UnsupportedRequest
        | MalformedRequest
        | SaslAuthenticationFailed
        | AuthenticationRequired
        | InjectedDisconnect,
        HandlerServices
      > => {
        if (!(frame instanceof Uint8Array) && frame._tag === "PartialFrame") {
          // Its bytes are on their way: reserve them before reading on (waiting while others hold the budget).
          reserved = frame.size
          return requests.take(frame.size)
        }
        const admitted = admit(frame)
        const size = frame instanceof Uint8Array ? frame.length : 0
        if (reserved >= 0 && size === reserved) reserved = -1
        else if (!("run" in admitted) || !requests.tryTake(size)) {
          if (!("run" in admitted)) return Effect.fail(admitted)
          return Effect.andThen(requests.take(size), run(frame as Uint8Array, admitted, size))
        }
        if (!("run" in admitted)) {
          requests.release(size)
          return Effect.fail(admitted)
        }
        return run(frame as Uint8Array, admitted, size)
      })

    const run = (frame: Uint8Array, admitted: Admitted, size: number) =>
      Effect.suspend(() => {
        const slot: Slot = { done: false, response: undefined }
        slots.push(slot)
        let held = size
        const giveBack = () => {
          requests.release(held)
          held = 0
        }
        // A request that may wait long is small and decoded: its bytes go back to the budget now, so that waiting
        // requests can never hold back the requests they wait for.
        if (admitted.waits) giveBack()
        const complete = (response: Encoded) => {
          giveBack()
          slot.done = true
          slot.response = response
          if (response !== undefined) pendingBytes += response.held
          return flush
        }
        // A Produce frame's bytes are written to the log (or copied) by the time it is handled: it can go back.
        if (!admitted.waits) {
          return Effect.flatMap(Effect.onInterrupt(admitted.run, () => Effect.sync(giveBack)), (response) => {
            pool.release(frame)
            if (admitted.close !== undefined) return Effect.andThen(complete(response), Effect.fail(admitted.close))
            return Effect.andThen(complete(response), waitForRoom)
          })
        }
        return admitted.run.pipe(
          Effect.flatMap(complete),
          Effect.catchCause((cause) => Deferred.failCause(failed, cause)),
          Effect.forkIn(scope),
          Effect.andThen(waitForRoom)
        )
      })

    yield* Effect.logInfo("connection opened")
    const exit = yield* Socket.toStream(socket).pipe(
      Stream.mapAccumArray(
        () => new Framer({ limit: config.socketRequestMaxBytes, allocate }),
        (framer, chunks) => [framer, framer.push(chunks)]
      ),
      // After each request the connection lets the others run: a client pipelining requests would otherwise
      // have all its frames read together handled back to back while every other connection waited (scenario 1
      // of `npm run bench`, 4 connections × 5 in flight: p99 4.8× the reference's, about 1× with the turns).
      Stream.runForEachArray((frames) => Effect.forEach(frames, (f) => Effect.andThen(handle(f), Effect.yieldNow), { discard: true })),
      Effect.raceFirst(Deferred.await(failed)),
      Effect.exit
    )
    // Bytes reserved for a frame that never arrived whole go back.
    if (reserved >= 0) requests.release(reserved)
    const failure = exit._tag === "Success" ? undefined : Cause.findErrorOption(exit.cause)
    if (exit._tag === "Success" || (failure?._tag === "Some" && isPeerClose(failure.value))) {
      // The client sent its last request: answers still on their way (a long poll) may be read if it only
      // half-closed; give them a few seconds.
      if (slots.length > 0) {
        yield* Effect.suspend(() => {
          if (slots.length === 0) return Effect.void
          idle ??= Deferred.makeUnsafe<void>()
          return Deferred.await(idle)
        }).pipe(Effect.raceFirst(Deferred.await(failed)), Effect.timeoutOption(LINGER), Effect.ignore)
      }
      yield* Effect.logInfo(exit._tag === "Success" ? "connection closed" : "connection closed by client")
    } else if (failure?._tag === "Some") {
      yield* Effect.logWarning(`closing connection: ${failure.value.message}`)
    } else {
      yield* Effect.logError("closing connection after an internal error", exit.cause)
    }
  }).pipe(
    Effect.scoped,
    Effect.annotateLogs({ connection: connection.id, client: connection.remote })
  )
