// Whole request and response frames: the 4-byte size, the header, the body. The broker writes responses with
// these; the raw client (src/client/) and the tools write requests and read responses with them.
import { ByteReader, ByteWriter, type Chunk, MalformedInput } from "./Bytes.ts"
import { readHeaderRest, writeRequestHeader, writeResponseHeader } from "./Header.ts"
import { type Api, isFlexible, requestCodec, responseCodec } from "./Message.ts"

/** ApiVersions answers with response header v0 whatever its version, so any client can read it. */
const API_VERSIONS_KEY = 18

const flexibleResponse = (api: Api<unknown, unknown>, version: number) => api.key !== API_VERSIONS_KEY && isFlexible(api, version)

/** A request frame for `api` at `version`. */
export const requestFrame = <Req>(api: Api<Req, unknown>, version: number, body: Req, correlationId: number, clientId: string | null): Uint8Array => {
  const w = new ByteWriter()
  const size = w.reserveInt32()
  writeRequestHeader(w, { apiKey: api.key, apiVersion: version, correlationId, clientId }, isFlexible(api, version))
  requestCodec(api, version).write(w, body)
  w.patchInt32(size, w.length - 4)
  return w.toBytes()
}

/** A response frame as chunks (large records by reference, sources in their place), for one gathered write. */
export const responseFrame = <Res>(api: Api<unknown, Res>, version: number, correlationId: number, body: Res): Array<Chunk> => {
  const w = new ByteWriter(256)
  const size = w.reserveInt32()
  writeResponseHeader(w, correlationId, flexibleResponse(api, version))
  responseCodec(api, version).write(w, body)
  w.patchInt32(size, w.length - 4)
  return w.finish()
}

/** The body of a response frame (the bytes after the size), checking that nothing is left over. */
export const readResponse = <Res>(api: Api<unknown, Res>, version: number, frame: Uint8Array): Res => {
  const r = new ByteReader(frame)
  r.int32()
  if (flexibleResponse(api, version)) {
    const tags = r.uvarint()
    for (let i = 0; i < tags; i++) {
      r.uvarint()
      r.skip(r.uvarint())
    }
  }
  const value = responseCodec(api, version).read(r)
  if (r.remaining !== 0) throw new MalformedInput(`${r.remaining} bytes left after ${api.name} v${version} response`)
  return value
}

/** The body of a request frame after its fixed header prefix (api key, version, correlation id). */
export const readRequestBody = <Req>(api: Api<Req, unknown>, version: number, r: ByteReader): { readonly clientId: string | null; readonly body: Req } => {
  const clientId = readHeaderRest(r, isFlexible(api, version))
  return { clientId, body: requestCodec(api, version).read(r) }
}
