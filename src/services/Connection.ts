// One client connection, as a Stream: socket bytes → size-prefixed frames → request header and body decoded
// and admitted in arrival order → handlers run (several at once) → responses encoded and written, one write
// each, in request order. Bad input closes the connection with a log line: a frame above
// `socket.request.max.bytes`, an unknown API key, a version outside the advertised range (except ApiVersions,
// answered with error 35), bytes that do not decode. Nothing a client sends can stop the server.
import { Cause, Deferred, Effect, Schema, Stream } from "effect"
import * as Socket from "effect/socket/Socket"
import { apiName } from "../protocol/ApiKeys.ts"
import { ByteReader, ByteWriter, MalformedInput } from "../protocol/Bytes.ts"
import { readHeaderPrefix, readHeaderRest, writeResponseHeader } from "../protocol/Header.ts"
import { isFlexible, requestCodec, responseCodec, type Api } from "../protocol/Message.ts"
import { ApiVersions } from "../protocol/messages/ApiVersions.ts"
import { handlers, supportedApis, type HandlerServices } from "./Apis.ts"
import { unsupportedVersion } from "./api/ApiVersions.ts"
import { BrokerConfig } from "./BrokerConfig.ts"
import { NoResponse, type ConnectionInfo, type RequestContext } from "./Handler.ts"

/** Requests of one connection handled at the same time; responses still leave in request order. */
const MAX_IN_FLIGHT = 16

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
  private gather(n: number): Uint8Array {
    const out = new Uint8Array(n)
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
      out = this.gather(n)
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

type Pending = Effect.Effect<ReadonlyArray<Uint8Array> | undefined, never, HandlerServices>

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
    let lastOrdered: Deferred.Deferred<void> | undefined

    /** Decodes one frame and returns the effect that answers it (runs later, possibly alongside others). */
    const admit = (frame: Uint8Array | FrameTooLarge): Effect.Effect<Pending, FrameTooLarge | UnsupportedRequest | MalformedRequest> => {
      if (frame instanceof FrameTooLarge) return Effect.fail(frame)
      try {
        const r = new ByteReader(frame)
        const { apiKey, apiVersion, correlationId } = readHeaderPrefix(r)
        const h = handlers.get(apiKey)
        if (h === undefined) return Effect.fail(new UnsupportedRequest({ apiKey, apiVersion }))
        const { api } = h
        if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
          if (apiKey !== ApiVersions.key) return Effect.fail(new UnsupportedRequest({ apiKey, apiVersion }))
          return Effect.succeed(Effect.succeed(encodeResponse(ApiVersions, 0, correlationId, unsupportedVersion(supportedApis))))
        }
        const clientId = readHeaderRest(r, isFlexible(api, apiVersion))
        const request = requestCodec(api, apiVersion).read(r)
        const context: RequestContext = { apiVersion, correlationId, clientId, connection }
        let run: Pending = h.handle(request, context).pipe(
          Effect.map((response) => response === NoResponse ? undefined : encodeResponse(api, apiVersion, correlationId, response)),
          Effect.withSpan(
            api.name,
            { attributes: { "kafka.api_version": apiVersion, "kafka.correlation_id": correlationId, "kafka.client_id": clientId ?? "" } },
            // A stack trace per request costs more than the request itself on the hot path.
            { captureStackTrace: false }
          )
        )
        if (h.ordered) {
          const previous = lastOrdered
          const done = Deferred.makeUnsafe<void>()
          lastOrdered = done
          run = (previous === undefined ? run : Effect.andThen(Deferred.await(previous), run)).pipe(
            Effect.ensuring(Deferred.succeed(done, undefined))
          )
        }
        return Effect.succeed(run)
      } catch (e) {
        if (e instanceof MalformedInput) return Effect.fail(new MalformedRequest({ detail: e.message }))
        throw e
      }
    }

    yield* Effect.logInfo("connection opened")
    const exit = yield* Socket.toStream(socket).pipe(
      Stream.mapAccumArray(() => new Framer(config.socketRequestMaxBytes), (framer, chunks) => [framer, framer.push(chunks)]),
      Stream.mapEffect(admit),
      Stream.mapEffect((pending) => pending, { concurrency: MAX_IN_FLIGHT }),
      Stream.runForEach((response) => (response === undefined ? Effect.void : writer.writeAll(response as [Uint8Array, ...Array<Uint8Array>]))),
      Effect.exit
    )
    if (exit._tag === "Success") {
      yield* Effect.logInfo("connection closed")
      return
    }
    const failure = Cause.findErrorOption(exit.cause)
    if (failure._tag === "Some" && isPeerClose(failure.value)) {
      yield* Effect.logInfo("connection closed by client")
    } else if (failure._tag === "Some") {
      yield* Effect.logWarning(`closing connection: ${failure.value.message}`)
    } else {
      yield* Effect.logError("closing connection after an internal error", exit.cause)
    }
  }).pipe(
    Effect.scoped,
    Effect.annotateLogs({ connection: connection.id, client: connection.remote })
  )
