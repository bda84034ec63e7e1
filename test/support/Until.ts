// Waiting in end-to-end tests for something a broker or client does in its own time.

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
export const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Polls `get` until `check` holds of what it answers (a throw counts as not yet); answers that. */
export const eventually = async <A>(what: string, get: () => Promise<A>, check: (a: A) => boolean, timeoutMs = 20_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: A | undefined
  for (;;) {
    try {
      last = await get()
      if (check(last)) return last
    } catch {}
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
