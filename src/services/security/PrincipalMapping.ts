// `ssl.principal.mapping.rules` as Kafka reads them: a comma-separated list of `DEFAULT` (the distinguished name
// unchanged) and `RULE:pattern/replacement/[L|U]` (when the pattern matches the whole DN, the replacement, lower-
// or upper-cased by the flag). The first rule that applies gives the name; none applying refuses the client.
// Patterns are Java regular expressions; the common subset (groups, classes, quantifiers) means the same in JS.
export type PrincipalRule =
  | { readonly _tag: "Default" }
  | { readonly _tag: "Rule"; readonly pattern: RegExp; readonly replacement: string; readonly lower: boolean; readonly upper: boolean }

export class InvalidMappingRule extends Error {}

const RULE = String.raw`(DEFAULT)|RULE:((?:\\.|[^\\/])*)/((?:\\.|[^\\/])*)/([LU]?).*?|(.*?)`
const SPLITTER = new RegExp(String.raw`\s*(` + RULE + String.raw`)\s*(?:,\s*|$)`, "gy")
const PARSER = new RegExp(`^(?:${RULE})$`)

export const parseRules = (spec: string = "DEFAULT"): Array<PrincipalRule> => {
  const text = spec.trim()
  const rules: Array<PrincipalRule> = []
  SPLITTER.lastIndex = 0
  const parts: Array<string> = []
  while (SPLITTER.lastIndex < text.length) {
    const start = SPLITTER.lastIndex
    const m = SPLITTER.exec(text)
    if (m === null || SPLITTER.lastIndex === start) throw new InvalidMappingRule(`Invalid rule: ${text.slice(start)}`)
    parts.push(m[1]!)
  }
  for (const part of parts) {
    const m = PARSER.exec(part)
    if (m === null) throw new InvalidMappingRule(`Invalid rule: ${part}`)
    if (m[1] !== undefined) rules.push({ _tag: "Default" })
    else if (m[2] !== undefined) {
      let pattern: RegExp
      try {
        pattern = new RegExp(`^(?:${m[2]})$`)
      } catch {
        throw new InvalidMappingRule(`Invalid rule: ${part}`)
      }
      // Java's replacement syntax: $n is a group, \x a literal x.
      const replacement = m[3]!.replace(/\\(.)/g, "$1")
      rules.push({ _tag: "Rule", pattern, replacement, lower: m[4] === "L", upper: m[4] === "U" })
    } else if (part.trim().length > 0) {
      throw new InvalidMappingRule(`Invalid rule: ${part}`)
    }
  }
  return rules
}

/** The principal name for a distinguished name, or undefined when no rule applies. */
export const mapPrincipal = (rules: ReadonlyArray<PrincipalRule>, dn: string): string | undefined => {
  for (const r of rules) {
    if (r._tag === "Default") return dn
    if (r.pattern.test(dn)) {
      const name = dn.replace(r.pattern, r.replacement)
      return r.lower ? name.toLowerCase() : r.upper ? name.toUpperCase() : name
    }
  }
  return undefined
}

/**
 * A certificate subject as Node gives it (`x509.subject`: one `key=value` a line, in certificate order) in the
 * RFC 2253 form Kafka's principals use: most specific first, comma-separated (`CN=alice,OU=eng,O=acme,C=US`).
 */
export const rfc2253 = (subject: string): string =>
  subject.split("\n").filter((l) => l.length > 0).reverse().map((l) => {
    const i = l.indexOf("=")
    const value = l.slice(i + 1).replace(/([,+"\\<>;])/g, "\\$1")
    return `${l.slice(0, i)}=${value}`
  }).join(",")
