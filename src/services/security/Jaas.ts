// Kafka's JAAS configuration as it appears in `sasl.jaas.config` and `listener.name.<l>.<mech>.sasl.jaas.config`:
// `<LoginModule class> <required|requisite|sufficient|optional> key=value ... ;` (one or more entries). Values
// are bare words or double-quoted strings with backslash escapes. Only what the PLAIN login module needs is
// read from it (`user_<name>="<password>"`), but any module parses.
export interface JaasEntry {
  readonly loginModule: string
  readonly flag: string
  readonly options: ReadonlyMap<string, string>
}

export class JaasError extends Error {}

export const parseJaas = (text: string): Array<JaasEntry> => {
  let i = 0
  const n = text.length
  const skip = () => {
    for (;;) {
      while (i < n && /\s/.test(text[i]!)) i++
      if (text.startsWith("//", i)) {
        while (i < n && text[i] !== "\n") i++
      } else if (text.startsWith("/*", i)) {
        const end = text.indexOf("*/", i + 2)
        i = end < 0 ? n : end + 2
      } else return
    }
  }
  const word = (what: string) => {
    skip()
    const m = /^[A-Za-z0-9_$.\-]+/.exec(text.slice(i))
    if (m === null) throw new JaasError(`expected ${what} at position ${i}`)
    i += m[0].length
    return m[0]
  }
  const value = () => {
    skip()
    if (text[i] !== '"') return word("a value")
    i++
    let out = ""
    while (i < n && text[i] !== '"') {
      if (text[i] === "\\" && i + 1 < n) i++
      out += text[i]
      i++
    }
    if (i >= n) throw new JaasError("unterminated quoted value")
    i++
    return out
  }
  const entries: Array<JaasEntry> = []
  skip()
  while (i < n) {
    const loginModule = word("a login module class")
    const flag = word("a control flag").toLowerCase()
    if (!["required", "requisite", "sufficient", "optional"].includes(flag)) {
      throw new JaasError(`invalid control flag "${flag}" for ${loginModule}`)
    }
    const options = new Map<string, string>()
    for (;;) {
      skip()
      if (i >= n) throw new JaasError(`missing ";" after the options of ${loginModule}`)
      if (text[i] === ";") {
        i++
        break
      }
      const key = word("an option name")
      skip()
      if (text[i] !== "=") throw new JaasError(`expected "=" after option ${key}`)
      i++
      options.set(key, value())
    }
    entries.push({ loginModule, flag, options })
    skip()
  }
  if (entries.length === 0) throw new JaasError("no login module")
  return entries
}

/** The PLAIN users (`user_alice="secret"`) of a JAAS config. */
export const plainUsers = (entries: ReadonlyArray<JaasEntry>): Map<string, string> => {
  const users = new Map<string, string>()
  for (const e of entries) {
    for (const [k, v] of e.options) if (k.startsWith("user_") && k.length > 5) users.set(k.slice(5), v)
  }
  return users
}
