// One client connection, as a Stream: socket bytes → size-prefixed frames → request header and body decoded
// in arrival order → handlers run → responses encoded and written, one write each, in request order. Requests
// run one at a time in arrival order, except those that may wait long (a Fetch long poll, a JoinGroup, a
// SyncGroup): those run on fibers of their own while the next requests are handled, and their answers still
// leave in request order. Bad input closes the connection with a log line: a frame above
// `socket.request.max.bytes`, an unknown API key, a version outside the advertised range (except ApiVersions,
// answered with error 35), bytes that do not decode. Nothing a client sends can stop the server.
import { Cause, Deferred, Duration, Effect, Schema, Stream } from "effect"
import * as Socket from "effect/socket/Socket"
import { apiName } from "../protocol/ApiKeys.ts"
import { ByteReader, ByteWriter, MalformedInput } from "../protocol/Bytes.ts"
import { readHeaderPrefix, readHeaderRest, writeResponseHeader } from "../protocol/Header.ts"
import { isFlexible, requestCodec, responseCodec, type Api } from "../protocol/Message.ts"
import { ApiVersions } from "../protocol/messages/ApiVersions.ts"
import { handlers, supportedApis, type HandlerServices } from "./Apis.ts"
import { unsupportedVersion } from "./api/ApiVersions.ts"
import { BrokerConfig } from "./BrokerConfig.ts"
import * as BufferPool from "./BufferPool.ts"
import { afterWriteOf, NoResponse, type ConnectionInfo, type RequestContext } from "./Handler.ts"

/**
 * Responses not yet written, per connection: past this, the connection stops reading until they are (a client
 * pipelining behind a long poll cannot make the broker buffer without limit).
 */
const MAX_PENDING = 32

/** How long answers still running may be written after the client stopped sending. */
const LINGER = Duration.seconds(5)
export class FrameTooLarge extends Schema.TaggedError<FrameTooLarge>()("FrameTooLarge", {
  size: Schema.Number,
  limit: Schema.Number
}) {
  override get message() {
    return `request of ${this.size} bytes exceeds socket.request.max.bytes=${this.limit}`
  }
}

export class UnsupportedRequest extends Schema.TaggedError<UnsupportedRequest>()("UnsupportedRequest", {
  apiKey: Schema.Number,
  apiVersion: Schema.Number
}) {
  override get message() {
    const h = handlers.get(this.apiKey)
    return h === undefined
      ? `${apiName(this.apiKey)} (api key ${this.apiKey}) is not supported`
      : `${h.api.name} v${this.apiVersion} is not supported (versions ${h.api.minVersion}-${h.api.maxVersion})`
  }
}

export class MalformedRequest extends Schema.TaggedError<MalformedRequest>()("MalformedRequest", {
  detail: Schema.String
}) {
  override get message() {
    return `malformed request: ${this.detail}`
  }
}

/** Produce requests at least this large are gathered into pooled buffers. */
const POOLED_FRAME = 64 * 1024
const PRODUCE_KEY = 0

/** Splits a byte stream into Kafka frames (a 4-byte big-endian size, then that many bytes). */
export class Framer {
  private readonly limit: number
  private parts: Array<Uint8Array> = []
  private buffered = 0

  constructor(limit: number) {
    this.limit = limit
  }

  push(chunks: ReadonlyArray<Uint8Array>): Array<Uint8Array | FrameTooLarge> {
    for (const c of chunks) {
      if (c.length === 0) continue
      this.parts.push(c)
      this.buffered += c.length
    }
    const out: Array<Uint8Array | FrameTooLarge> = []
    while (this.buffered >= 4) {
      const size = this.peekSize()
      if (size < 0 || size > this.limit) {
        out.push(new FrameTooLarge({ size, limit: this.limit }))
        this.parts = []
        this.buffered = 0
        break
      }
      if (this.buffered < 4 + size) break
      this.take(4)
      out.push(this.take(size))
    }
    return out
  }

  private peekSize(): number {
    const head = this.parts[0]!.length >= 4 ? this.parts[0]! : this.gather(4)
    return new DataView(head.buffer, head.byteOffset, 4).getInt32(0)
  }

  /** The first n buffered bytes as one array (a copy only when they span chunks). */
  private gather(n: number, pooled = false): Uint8Array {
    const out = pooled ? BufferPool.acquire(n, POOLED_FRAME) : new Uint8Array(n)
    let at = 0
    for (const p of this.parts) {
      const k = Math.min(p.length, n - at)
      out.set(p.subarray(0, k), at)
      at += k
      if (at === n) break
    }
    return out
  }

  private take(n: number): Uint8Array {
    const first = this.parts[0]!
    let out: Uint8Array
    if (first.length >= n) {
      out = first.subarray(0, n)
    } else {
      // A large Produce request spread over socket reads goes into a pooled buffer (given back once handled).
      out = this.gather(n, n >= POOLED_FRAME && first.length >= 2 && first[0] === 0 && first[1] === PRODUCE_KEY)
    }
    let left = n
    while (left > 0) {
      const p = this.parts[0]!
      if (p.length <= left) {
        this.parts.shift()
        left -= p.length
      } else {
        this.parts[0] = p.subarray(left)
        left = 0
      }
    }
    this.buffered -= n
    return out
  }
}

/** A response's bytes, and what to do once they are written (undefined: no response, as for acks=0). */
type Encoded = { readonly bytes: ReadonlyArray<Uint8Array>; readonly after: (() => void) | undefined } | undefined

/** A request ready to run: the effect answering it, and whether it may wait long. */
interface Admitted {
  readonly run: Effect.Effect<Encoded, never, HandlerServices>
  readonly waits: boolean
}

/** A response in request order: written once it and everything before it are done. */
interface Slot {
  done: boolean
  response: Encoded
}

const encodeResponse = <Res>(api: Api<unknown, Res>, version: number, correlationId: number, body: Res) => {
  const w = new ByteWriter(256)
  const size = w.reserveInt32()
  // ApiVersions answers with response header v0 whatever its version, so any client can read it.
  writeResponseHeader(w, correlationId, api.key !== ApiVersions.key && isFlexible(api, version))
  responseCodec(api, version).write(w, body)
  w.patchInt32(size, w.length - 4)
  return w.finish()
}

/** The client hung up: a clean close, or a write that failed because it had already gone. */
const isPeerClose = (e: unknown) =>
  Socket.isSocketError(e) && (e.reason._tag === "SocketCloseError" || e.reason._tag === "SocketWriteError")

/** Serves one connection until the client closes it or sends something that must close it. */
export const serveConnection = (socket: Socket.Socket, connection: ConnectionInfo) =>
  Effect.gen(function*() {
    const config = yield* BrokerConfig
    const writer = yield* socket.writer
    const scope = yield* Effect.scope

    /** Decodes one frame into the effect that answers it. */
    const admit = (frame: Uint8Array | FrameTooLarge): Admitted | FrameTooLarge | UnsupportedRequest | MalformedRequest => {
      if (frame instanceof FrameTooLarge) return frame
      try {
        const r = new ByteReader(frame)
        const { apiKey, apiVersion, correlationId } = readHeaderPrefix(r)
        const h = handlers.get(apiKey)
        if (h === undefined) return new UnsupportedRequest({ apiKey, apiVersion })
        const { api } = h
        if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
          if (apiKey !== ApiVersions.key) return new UnsupportedRequest({ apiKey, apiVersion })
          const bytes = encodeResponse(ApiVersions, 0, correlationId, unsupportedVersion(supportedApis))
          return { run: Effect.succeed({ bytes, after: undefined }), waits: false }
        }
        const clientId = readHeaderRest(r, isFlexible(api, apiVersion))
        const request = requestCodec(api, apiVersion).read(r)
        const context: RequestContext = { apiVersion, correlationId, clientId, connection }
        const run = h.handle(request, context).pipe(
          Effect.map((response): Encoded =>
            response === NoResponse
              ? undefined
              : { bytes: encodeResponse(api, apiVersion, correlationId, response), after: afterWriteOf(response) }
          ),
          Effect.withSpan(
            api.name,
            { attributes: { "kafka.api_version": apiVersion, "kafka.correlation_id": correlationId, "kafka.client_id": clientId ?? "" } },
            // A stack trace per request costs more than the request itself on the hot path.
            { captureStackTrace: false }
          )
        )
        return { run, waits: h.waits(request) }
      } catch (e) {
        if (e instanceof MalformedInput) return new MalformedRequest({ detail: e.message })
        throw e
      }
    }

    // Responses in request order. The writer drains the head while it is done; checking the head and giving up
    // the writer happen in one synchronous step, so a response finishing meanwhile is never left behind.
    const slots: Array<Slot> = []
    let writing = false
    let room: Deferred.Deferred<void> | undefined
    let idle: Deferred.Deferred<void> | undefined
    const drain: Effect.Effect<void, Socket.SocketError> = Effect.suspend(() => {
      const head = slots[0]
      if (head === undefined || !head.done) {
        writing = false
        if (head === undefined && idle !== undefined) Deferred.doneUnsafe(idle, Effect.void)
        return Effect.void
      }
      slots.shift()
      if (room !== undefined && slots.length < MAX_PENDING) {
        Deferred.doneUnsafe(room, Effect.void)
        room = undefined
      }
      const response = head.response
      if (response === undefined) return drain
      const written = writer.writeAll(response.bytes as [Uint8Array, ...Array<Uint8Array>])
      const after = response.after
      return Effect.andThen(after === undefined ? written : Effect.andThen(written, Effect.sync(after)), drain)
    })
    const flush = Effect.suspend(() => {
      if (writing) return Effect.void
      writing = true
      return drain
    })

    /** A failure of a request running on its own fiber (a write to a gone client, a defect) ends the connection. */
    const failed = Deferred.makeUnsafe<never, Socket.SocketError>()

    const handle = (frame: Uint8Array | FrameTooLarge) =>
      Effect.suspend((): Effect.Effect<void, Socket.SocketError | FrameTooLarge | UnsupportedRequest | MalformedRequest, HandlerServices> => {
        const admitted = admit(frame)
        if (!("run" in admitted)) return Effect.fail(admitted)
        const slot: Slot = { done: false, response: undefined }
        slots.push(slot)
        const complete = (response: Encoded) => {
          slot.done = true
          slot.response = response
          return flush
        }
        const waitForRoom = Effect.suspend(() => {
          if (slots.length < MAX_PENDING) return Effect.void
          room ??= Deferred.makeUnsafe<void>()
          return Deferred.await(room)
        })
        // A Produce frame's bytes are written to the log (or copied) by the time it is handled: it can go back.
        if (!admitted.waits) {
          return Effect.flatMap(admitted.run, (response) => {
            if (frame instanceof Uint8Array) BufferPool.release(frame)
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
      Stream.mapAccumArray(() => new Framer(config.socketRequestMaxBytes), (framer, chunks) => [framer, framer.push(chunks)]),
      Stream.runForEachArray((frames) => Effect.forEach(frames, handle, { discard: true })),
      Effect.raceFirst(Deferred.await(failed)),
      Effect.exit
    )
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
