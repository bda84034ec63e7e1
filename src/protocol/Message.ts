// Kafka messages as data. A message is a struct of fields, each present in a range of versions, possibly
// nullable in some of them, possibly a tagged field. `codec(type, version, flexible)` compiles a definition
// once per version into a reader and a writer made of closures: classic encodings (int16 string lengths,
// int32 array counts) and flexible ones (compact lengths, tagged-field sections) are decided at compile time,
// never per byte.
import { asciiString, ByteReader, ByteWriter, type ByteSource, isAscii, MalformedInput, ZERO_UUID } from "./Bytes.ts"

/** An inclusive version range; `[0, Infinity]` for "0+", `[1, 0]` (empty) for "none". */
export type Versions = readonly [min: number, max: number]

export const versions = (spec: string): Versions => {
  if (spec === "none") return [1, 0]
  if (spec.endsWith("+")) return [Number(spec.slice(0, -1)), Infinity]
  const dash = spec.indexOf("-")
  if (dash < 0) return [Number(spec), Number(spec)]
  return [Number(spec.slice(0, dash)), Number(spec.slice(dash + 1))]
}

const within = (v: number, range: Versions | undefined): boolean => range !== undefined && v >= range[0] && v <= range[1]

// ---------------------------------------------------------------------------------------------------------
// Types

type Primitive = "int8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "float64" | "bool" | "uuid"

export type Type<A> =
  | { readonly kind: "primitive"; readonly name: Primitive; readonly _A?: A }
  | { readonly kind: "string"; readonly _A?: A }
  | { readonly kind: "bytes"; readonly _A?: A }
  | { readonly kind: "records"; readonly _A?: A }
  | { readonly kind: "array"; readonly element: Type<unknown>; readonly _A?: A }
  | { readonly kind: "struct"; readonly fields: Readonly<Record<string, AnyField>>; readonly _A?: A }

export const int8: Type<number> = { kind: "primitive", name: "int8" }
export const int16: Type<number> = { kind: "primitive", name: "int16" }
export const uint16: Type<number> = { kind: "primitive", name: "uint16" }
export const int32: Type<number> = { kind: "primitive", name: "int32" }
export const uint32: Type<number> = { kind: "primitive", name: "uint32" }
export const int64: Type<number> = { kind: "primitive", name: "int64" }
export const float64: Type<number> = { kind: "primitive", name: "float64" }
export const bool: Type<boolean> = { kind: "primitive", name: "bool" }
export const uuid: Type<string> = { kind: "primitive", name: "uuid" }
export const string: Type<string> = { kind: "string" }
export const bytes: Type<Uint8Array> = { kind: "bytes" }
/**
 * Kafka's `records` type: bytes on the wire, written from memory or, in responses, from a ByteSource read when
 * the response is sent (Fetch answers records straight from the log). Decoding always gives bytes.
 */
export const records: Type<Uint8Array | ByteSource> = { kind: "records" }

export const array = <A>(element: Type<A>): Type<Array<A>> => ({ kind: "array", element })

// ---------------------------------------------------------------------------------------------------------
// Fields

export interface Field<A, Tagged extends boolean = false> {
  readonly type: Type<unknown>
  readonly versions: Versions
  readonly nullable: Versions | undefined
  readonly tag: number | undefined
  readonly default: (() => A) | undefined
  readonly _A?: A
  readonly _Tagged?: Tagged
}

type AnyField = Field<any, boolean>

export interface FieldOptions<A> {
  /** The value a version without this field decodes to (defaults: 0, false, "", [], the zero UUID). */
  readonly default?: A
}

const makeField = (
  type: Type<unknown>,
  spec: string,
  options: FieldOptions<unknown> & { readonly nullable?: string; readonly tag?: number }
): AnyField => ({
  type,
  versions: versions(spec),
  nullable: options.nullable === undefined ? undefined : versions(options.nullable),
  tag: options.tag,
  default: "default" in options ? () => options.default : undefined
})

/** A field present in `spec` versions ("0+", "3-7"). With `nullable`, null is allowed in those versions. */
export function field<A>(
  type: Type<A>,
  spec: string,
  options: FieldOptions<A | null> & { readonly nullable: string }
): Field<A | null>
export function field<A>(type: Type<A>, spec?: string, options?: FieldOptions<A>): Field<A>
export function field(type: Type<unknown>, spec = "0+", options: FieldOptions<unknown> = {}): AnyField {
  return makeField(type, spec, options)
}

/** A tagged field: written in the tagged section of flexible versions, only when it differs from its default. */
export function tagged<A>(
  tag: number,
  type: Type<A>,
  spec: string,
  options: FieldOptions<A | null> & { readonly nullable: string }
): Field<A | null, true>
export function tagged<A>(tag: number, type: Type<A>, spec: string, options?: FieldOptions<A>): Field<A, true>
export function tagged(tag: number, type: Type<unknown>, spec: string, options: FieldOptions<unknown> = {}): AnyField {
  return makeField(type, spec, { ...options, tag })
}

type Simplify<T> = { [K in keyof T]: T[K] } & {}

/** Tagged fields are optional when building a value (absent means default); every other field is required. */
export type StructOf<F extends Record<string, AnyField>> = Simplify<
  & { -readonly [K in keyof F as F[K] extends Field<any, true> ? never : K]: F[K] extends Field<infer A, any> ? A : never }
  & { -readonly [K in keyof F as F[K] extends Field<any, true> ? K : never]?: F[K] extends Field<infer A, any> ? A : never }
>

export const struct = <F extends Record<string, AnyField>>(fields: F): Type<StructOf<F>> => ({ kind: "struct", fields })

export type TypeOf<T> = T extends Type<infer A> ? A : never

// ---------------------------------------------------------------------------------------------------------
// Defaults

const defaultOf = (type: Type<unknown>): unknown => {
  switch (type.kind) {
    case "primitive":
      return type.name === "bool" ? false : type.name === "uuid" ? ZERO_UUID : 0
    case "string":
      return ""
    case "bytes":
    case "records":
      return new Uint8Array(0)
    case "array":
      return []
    case "struct": {
      const out: Record<string, unknown> = {}
      for (const [name, f] of Object.entries(type.fields)) out[name] = fieldDefault(f)
      return out
    }
  }
}

const fieldDefault = (f: AnyField): unknown => (f.default !== undefined ? f.default() : defaultOf(f.type))

/** A value of `type` with every field at its default: the smallest well-formed message of a kind. */
export const defaultValue = <A>(type: Type<A>): A => defaultOf(type) as A

// ---------------------------------------------------------------------------------------------------------
// Compilation

export interface Codec<A> {
  readonly read: (r: ByteReader) => A
  readonly write: (w: ByteWriter, value: A) => void
}

type Read = (r: ByteReader) => unknown
type Write = (w: ByteWriter, value: any) => void

const primitive = (name: Primitive): [Read, Write] => {
  switch (name) {
    case "int8":
      return [(r) => r.int8(), (w, v) => w.int8(v)]
    case "int16":
      return [(r) => r.int16(), (w, v) => w.int16(v)]
    case "uint16":
      return [(r) => r.uint16(), (w, v) => w.uint16(v)]
    case "int32":
      return [(r) => r.int32(), (w, v) => w.int32(v)]
    case "uint32":
      return [(r) => r.uint32(), (w, v) => w.uint32(v)]
    case "int64":
      return [(r) => r.int64(), (w, v) => w.int64(v)]
    case "float64":
      return [(r) => r.float64(), (w, v) => w.float64(v)]
    case "bool":
      return [(r) => r.bool(), (w, v) => w.bool(v)]
    case "uuid":
      return [(r) => r.uuid(), (w, v) => w.uuid(v)]
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })

const decodeUtf8 = (bytes: Uint8Array): string => {
  const ascii = asciiString(bytes)
  if (ascii !== undefined) return ascii
  try {
    return decoder.decode(bytes)
  } catch {
    throw new MalformedInput("string is not valid UTF-8")
  }
}

/** Reads a length: compact (unsigned varint, 0 = null) or classic; -1 stands for null. */
const lengthReader = (flexible: boolean, classic: (r: ByteReader) => number) =>
  flexible ? (r: ByteReader) => r.uvarint() - 1 : classic

const lengthWriter = (flexible: boolean, classic: (w: ByteWriter, n: number) => void) =>
  flexible ? (w: ByteWriter, n: number) => w.uvarint(n + 1) : classic

const compile = (type: Type<unknown>, version: number, flexible: boolean, nullable: boolean, name: string): [Read, Write] => {
  const nullError = () => {
    throw new MalformedInput(`non-nullable field ${name} was null in version ${version}`)
  }
  switch (type.kind) {
    case "primitive":
      return primitive(type.name)
    case "string": {
      const readLength = lengthReader(flexible, (r) => r.int16())
      const writeLength = lengthWriter(flexible, (w, n) => w.int16(n))
      return [
        (r) => {
          const n = readLength(r)
          if (n < 0) return n === -1 && nullable ? null : nullError()
          return n === 0 ? "" : decodeUtf8(r.raw(n))
        },
        (w, v: string | null) => {
          if (v === null) return nullable ? writeLength(w, -1) : nullError()
          // Kafka strings are at most 32767 bytes, compact ones too; a longer one would wrap its int16 length.
          if (isAscii(v)) {
            if (v.length > 0x7fff) throw new MalformedInput(`string ${name} is ${v.length} bytes, more than 32767`)
            writeLength(w, v.length)
            return w.ascii(v)
          }
          const b = encoder.encode(v)
          if (b.length > 0x7fff) throw new MalformedInput(`string ${name} is ${b.length} bytes, more than 32767`)
          writeLength(w, b.length)
          w.raw(b)
        }
      ]
    }
    case "bytes":
    case "records": {
      const readLength = lengthReader(flexible, (r) => r.int32())
      const writeLength = lengthWriter(flexible, (w, n) => w.int32(n))
      return [
        (r) => {
          const n = readLength(r)
          if (n < 0) return n === -1 && nullable ? null : nullError()
          return r.raw(n)
        },
        (w, v: Uint8Array | ByteSource | null) => {
          if (v === null) return nullable ? writeLength(w, -1) : nullError()
          writeLength(w, v.length)
          if (v instanceof Uint8Array) w.raw(v)
          else w.source(v)
        }
      ]
    }
    case "array": {
      const [readElement, writeElement] = compile(type.element, version, flexible, false, name)
      const readLength = lengthReader(flexible, (r) => r.int32())
      const writeLength = lengthWriter(flexible, (w, n) => w.int32(n))
      return [
        (r) => {
          const n = readLength(r)
          if (n < 0) return n === -1 && nullable ? null : nullError()
          // Every element takes at least one byte: a count beyond the bytes left is a lie, not an allocation.
          if (n > r.remaining) throw new MalformedInput(`array ${name} claims ${n} elements, ${r.remaining} bytes left`)
          const out = new Array(n)
          for (let i = 0; i < n; i++) out[i] = readElement(r)
          return out
        },
        (w, v: Array<unknown> | null) => {
          if (v === null) return nullable ? writeLength(w, -1) : nullError()
          writeLength(w, v.length)
          for (let i = 0; i < v.length; i++) writeElement(w, v[i])
        }
      ]
    }
    case "struct": {
      const [read, write] = compileStruct(type.fields, version, flexible)
      if (!nullable) return [read, write]
      // A nullable struct is preceded by a marker byte: -1 for null, 1 for present.
      return [
        (r) => (r.int8() < 0 ? null : read(r)),
        (w, v) => {
          if (v === null || v === undefined) return w.int8(-1)
          w.int8(1)
          write(w, v)
        }
      ]
    }
  }
}

interface CompiledField {
  readonly name: string
  readonly read: Read
  readonly write: Write
  readonly default: () => unknown
}

const compileStruct = (fields: Readonly<Record<string, AnyField>>, version: number, flexible: boolean): [Read, Write] => {
  const present: Array<CompiledField> = []
  const absent: Array<CompiledField> = []
  const taggedByTag = new Map<number, CompiledField>()
  const taggedInOrder: Array<CompiledField & { readonly tag: number; readonly isDefault: (v: unknown) => boolean }> = []

  for (const [name, f] of Object.entries(fields)) {
    const def = () => fieldDefault(f)
    const isTagged = f.tag !== undefined
    if (!within(version, f.versions) || (isTagged && !flexible)) {
      absent.push({ name, read: () => undefined, write: () => undefined, default: def })
      continue
    }
    const [read, write] = compile(f.type, version, flexible, within(version, f.nullable), name)
    const compiled = { name, read, write, default: def }
    if (isTagged) {
      taggedByTag.set(f.tag!, compiled)
      const empty = def()
      taggedInOrder.push({ ...compiled, tag: f.tag!, isDefault: (v) => v === undefined || sameDefault(v, empty) })
    } else {
      present.push(compiled)
    }
  }
  taggedInOrder.sort((a, b) => a.tag - b.tag)

  const read: Read = (r) => {
    const out: Record<string, unknown> = {}
    for (let i = 0; i < present.length; i++) out[present[i]!.name] = present[i]!.read(r)
    for (let i = 0; i < absent.length; i++) out[absent[i]!.name] = absent[i]!.default()
    if (flexible) {
      for (const f of taggedInOrder) out[f.name] = f.default()
      const count = r.uvarint()
      for (let i = 0; i < count; i++) {
        const tag = r.uvarint()
        const size = r.uvarint()
        const f = taggedByTag.get(tag)
        if (f === undefined) {
          r.skip(size)
          continue
        }
        const end = r.offset + size
        if (end > r.end) throw new MalformedInput(`tagged field ${f.name} overruns its buffer`)
        out[f.name] = f.read(new ByteReader(r.bytes, r.offset, end))
        r.offset = end
      }
    }
    return out
  }

  const write: Write = (w, v: Record<string, unknown>) => {
    for (let i = 0; i < present.length; i++) present[i]!.write(w, v[present[i]!.name])
    if (!flexible) return
    let count = 0
    for (const f of taggedInOrder) if (!f.isDefault(v[f.name])) count++
    w.uvarint(count)
    if (count === 0) return
    for (const f of taggedInOrder) {
      const value = v[f.name]
      if (f.isDefault(value)) continue
      const inner = new ByteWriter(64)
      f.write(inner, value)
      const b = inner.toBytes()
      w.uvarint(f.tag)
      w.uvarint(b.length)
      w.raw(b)
    }
  }

  return [read, write]
}

/**
 * Tagged values equal to their default are left out. Defaults are scalars, null, empty arrays or bytes, and
 * structs of those, compared field by field (key order is no difference; an omitted field holds its default).
 */
const sameDefault = (v: unknown, empty: unknown): boolean => {
  if (v === empty || v === undefined) return true
  if (Array.isArray(v) || Array.isArray(empty)) {
    return Array.isArray(v) && Array.isArray(empty) && v.length === 0 && empty.length === 0
  }
  if (v instanceof Uint8Array || empty instanceof Uint8Array) {
    return v instanceof Uint8Array && empty instanceof Uint8Array && v.length === 0 && empty.length === 0
  }
  if (typeof v === "object" && v !== null && typeof empty === "object" && empty !== null) {
    for (const key of Object.keys(empty)) {
      if (!sameDefault((v as Record<string, unknown>)[key], (empty as Record<string, unknown>)[key])) return false
    }
    return true
  }
  return false
}

const cache = new WeakMap<Type<unknown>, Map<number, Codec<unknown>>>()

/** The reader and writer of `type` at `version`, compiled once and cached. */
export const codec = <A>(type: Type<A>, version: number, flexible: boolean): Codec<A> => {
  let byVersion = cache.get(type)
  if (byVersion === undefined) {
    byVersion = new Map()
    cache.set(type, byVersion)
  }
  const key = flexible ? -1 - version : version
  let c = byVersion.get(key)
  if (c === undefined) {
    const [read, write] = compile(type, version, flexible, false, "message")
    c = { read, write } as Codec<unknown>
    byVersion.set(key, c)
  }
  return c as Codec<A>
}

// ---------------------------------------------------------------------------------------------------------
// APIs

/**
 * One Kafka API as the wire knows it: its key, the versions this definition describes (Kafka's `validVersions`),
 * where flexible encoding starts, and both messages. Which versions the broker serves is the handler's say.
 */
export interface Api<Req, Res> {
  readonly key: number
  readonly name: string
  readonly validVersions: Versions
  /** First flexible version (compact encodings, tagged fields, request header v2, response header v1). */
  readonly flexibleFrom: number
  readonly request: Type<Req>
  readonly response: Type<Res>
}

export const api = <Req, Res>(definition: Api<Req, Res>): Api<Req, Res> => definition

export type RequestOf<T> = T extends Api<infer Req, any> ? Req : never
export type ResponseOf<T> = T extends Api<any, infer Res> ? Res : never

export const isFlexible = (a: Api<unknown, unknown>, version: number): boolean => version >= a.flexibleFrom

export const requestCodec = <Req>(a: Api<Req, unknown>, version: number): Codec<Req> =>
  codec(a.request, version, isFlexible(a, version))

export const responseCodec = <Res>(a: Api<unknown, Res>, version: number): Codec<Res> =>
  codec(a.response, version, isFlexible(a, version))

export const encodeToBytes = <A>(c: Codec<A>, value: A): Uint8Array => {
  const w = new ByteWriter()
  c.write(w, value)
  return w.toBytes()
}

export const decodeFromBytes = <A>(c: Codec<A>, bytes: Uint8Array): A => {
  const r = new ByteReader(bytes)
  const value = c.read(r)
  if (r.remaining !== 0) throw new MalformedInput(`${r.remaining} bytes left after the message`)
  return value
}
