// What a page is given while it is shown: whether it is still shown, timers that stop when it is left, and the
// page-wide notices. A poll that answers after the page was left is dropped (requests are never aborted, so the
// browser logs no cancelled requests).
import { describeError } from "./api.ts"
import { h, replace } from "./dom.ts"

export interface View {
  readonly alive: () => boolean
  /** Runs `task` now and then every `ms` while the page is shown, never two at once. */
  readonly every: (ms: number, task: () => Promise<void>) => void
  readonly onLeave: (cleanup: () => void) => void
  readonly navigate: (hash: string) => void
}

export const makeView = (): View & { readonly leave: () => void } => {
  let shown = true
  const cleanups: Array<() => void> = []
  return {
    alive: () => shown,
    every: (ms, task) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const run = async () => {
        if (!shown) return
        try {
          await task()
          if (shown) clearNotice("poll")
        } catch (error) {
          if (shown) notice("poll", "error", `Could not refresh: ${describeError(error)}`)
        }
        if (shown) timer = setTimeout(run, ms)
      }
      cleanups.push(() => clearTimeout(timer))
      void run()
    },
    onLeave: (cleanup) => cleanups.push(cleanup),
    navigate: (hash) => {
      location.hash = hash
    },
    leave: () => {
      shown = false
      for (const cleanup of cleanups.splice(0)) cleanup()
      clearNotice("poll")
    }
  }
}

/** A message in a box: `role=alert` for errors (read out at once), `role=status` otherwise. */
export const messageBox = (kind: "error" | "success" | "info", text: string): HTMLElement =>
  h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text)

/** Shows `text` in `slot` (an element kept in the page), replacing what was there. */
export const say = (slot: HTMLElement, kind: "error" | "success" | "info", text: string): void =>
  replace(slot, messageBox(kind, text))

const notices = new Map<string, HTMLElement>()

/** A page-wide notice under the header (e.g. the broker stopped answering); one per key. */
export const notice = (key: string, kind: "error" | "success" | "info", text: string): void => {
  const area = document.getElementById("notices")
  if (area === null) return
  const existing = notices.get(key)
  const box = messageBox(kind, text)
  if (existing) existing.replaceWith(box)
  else area.append(box)
  notices.set(key, box)
}

export const clearNotice = (key: string): void => {
  notices.get(key)?.remove()
  notices.delete(key)
}

/** Replaces `parent`'s content only when `data` changed, so a poll does not steal focus or scroll position. */
export const renderIfChanged = <A>(parent: HTMLElement, data: A, render: (data: A) => Node | ReadonlyArray<Node>): void => {
  const key = JSON.stringify(data)
  if (parent.dataset["rendered"] === key) return
  parent.dataset["rendered"] = key
  const nodes = render(data)
  replace(parent, ...(Array.isArray(nodes) ? nodes : [nodes as Node]))
}
