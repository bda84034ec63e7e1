// The harness of the codec tests: messages described once by a builder that knows, from Apache Kafka's JSON
// specs, which versions carry which field, run through every version of their API:
//   - built "full", every field holds a non-default value, even where the version lacks the field (the
//     encoder must leave it out);
//   - built "as decoded", fields the version lacks hold their defaults (what the decoder must produce).
// Each version runs twice: once with values everywhere, once with null wherever the version allows it; every
// encoding is also cut short and padded, which the decoder must refuse. Golden bytes are checked both ways.
import { assert, describe, it } from "@effect/vitest"
import { MalformedInput } from "../../../src/protocol/Bytes.ts"
import { type Api, type Codec, decodeFromBytes, encodeToBytes, requestCodec, responseCodec, versions } from "../../../src/protocol/Message.ts"
import { show } from "./hex.ts"

export interface Mode {
  readonly v: number
  /** The field exists in `range` ("3+", "0-12"): `value` when building full or when v is in range, else `dflt`. */
  readonly at: <A>(range: string, value: A, dflt: A) => A
  /** null when this pass tests nulls and v is in `range` (which must lie within the field's nullable versions). */
  readonly orNull: <A>(range: string, value: A) => A | null
}

const inRange = (v: number, range: string): boolean => {
  const [min, max] = versions(range)
  return v >= min && v <= max
}

const mode = (v: number, full: boolean, nulls: boolean): Mode => ({
  v,
  at: (range, value, dflt) => (full || inRange(v, range) ? value : dflt),
  orNull: (range, value) => (nulls && inRange(v, range) ? null : value)
})

export interface Case<Req, Res> {
  readonly api: Api<Req, Res>
  readonly request: (m: Mode) => Req
  readonly response: (m: Mode) => Res
}

export const testCase = <Req, Res>(c: Case<Req, Res>): Case<Req, Res> => c

const roundTrip = <A>(codec: Codec<A>, build: (m: Mode) => A, v: number, nulls: boolean): Uint8Array => {
  const input = build(mode(v, true, nulls))
  const expected = build(mode(v, false, nulls))
  const bytes = encodeToBytes(codec, input)
  assert.deepStrictEqual(decodeFromBytes(codec, bytes), expected)
  // Fields the version lacks never reach the wire: the decoded value encodes to the same bytes.
  assert.strictEqual(show(encodeToBytes(codec, expected)), show(bytes))
  return bytes
}

const rejectsTruncation = <A>(codec: Codec<A>, bytes: Uint8Array): void => {
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => decodeFromBytes(codec, bytes.subarray(0, n)), MalformedInput)
  }
  const longer = new Uint8Array(bytes.length + 1)
  longer.set(bytes)
  assert.throws(() => decodeFromBytes(codec, longer), MalformedInput)
}

/** A `describe` per API: its request and response at every version, with values and with nulls. */
export const roundTrips = (cases: ReadonlyArray<Case<any, any>>): void => {
  for (const c of cases) {
    describe(`${c.api.name} round trip`, () => {
      for (let v = c.api.validVersions[0]; v <= c.api.validVersions[1]; v++) {
        for (const nulls of [false, true]) {
          const label = nulls ? "with nulls" : "with values"
          it(`v${v} request ${label}`, () => {
            const codec = requestCodec(c.api, v)
            rejectsTruncation(codec, roundTrip(codec, c.request, v, nulls))
          })
          it(`v${v} response ${label}`, () => {
            const codec = responseCodec(c.api, v)
            rejectsTruncation(codec, roundTrip(codec, c.response, v, nulls))
          })
        }
      }
    })
  }
}

/** `value` encodes to exactly `bytes` (written by hand from the JSON specs), and `bytes` decode to `value`. */
export const golden = <A>(codec: Codec<A>, value: A, bytes: Uint8Array): void => {
  assert.strictEqual(show(encodeToBytes(codec, value)), show(bytes))
  assert.deepStrictEqual(decodeFromBytes(codec, bytes), value)
}
