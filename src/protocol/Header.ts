// Request and response headers. Request header v1 (classic) and v2 (flexible, with tagged fields) both carry
// `client_id` as an int16-length nullable string. The response header is v0 (correlation id) or v1 (plus
// tagged fields); ApiVersions always answers with v0 so that a client can read it before it knows our versions.
import { type ByteReader, type ByteWriter, MalformedInput } from "./Bytes.ts"

export interface RequestHeader {
  readonly apiKey: number
  readonly apiVersion: number
  readonly correlationId: number
  readonly clientId: string | null
}

const decoder = new TextDecoder()

/** The fixed part: api key, version and correlation id, readable for any version, even an unknown one. */
export const readHeaderPrefix = (r: ByteReader): Pick<RequestHeader, "apiKey" | "apiVersion" | "correlationId"> => ({
  apiKey: r.int16(),
  apiVersion: r.int16(),
  correlationId: r.int32()
})

/** Reads the client id (and the tagged fields of header v2) that follow the fixed prefix. */
export const readHeaderRest = (r: ByteReader, flexible: boolean): string | null => {
  const n = r.int16()
  if (n < -1) throw new MalformedInput(`client id length ${n}`)
  const clientId = n === -1 ? null : decoder.decode(r.raw(n))
  if (flexible) {
    const tags = r.uvarint()
    for (let i = 0; i < tags; i++) {
      r.uvarint()
      r.skip(r.uvarint())
    }
  }
  return clientId
}

const encoder = new TextEncoder()

export const writeRequestHeader = (w: ByteWriter, header: RequestHeader, flexible: boolean): void => {
  w.int16(header.apiKey)
  w.int16(header.apiVersion)
  w.int32(header.correlationId)
  if (header.clientId === null) {
    w.int16(-1)
  } else {
    const b = encoder.encode(header.clientId)
    w.int16(b.length)
    w.raw(b)
  }
  if (flexible) w.uvarint(0)
}

export const writeResponseHeader = (w: ByteWriter, correlationId: number, flexible: boolean): void => {
  w.int32(correlationId)
  if (flexible) w.uvarint(0)
}
