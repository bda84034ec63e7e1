// The web console: one page, hash routes (`#/`, `#/topics`, `#/topics/<name>`, `#/groups`, `#/groups/<id>`), so the
// broker serves only `/` and its few bundled files.
import { h, replace } from "./dom.ts"
import { makeView, type View } from "./view.ts"
import { groupPage } from "./views/group.ts"
import { groupsPage } from "./views/groups.ts"
import { overviewPage } from "./views/overview.ts"
import { topicPage } from "./views/topic.ts"
import { topicsPage } from "./views/topics.ts"

interface Route {
  readonly nav: "overview" | "topics" | "groups"
  readonly title: string
  readonly render: (main: HTMLElement, view: View) => void
}

const route = (hash: string): Route | undefined => {
  const path = hash.replace(/^#/, "") || "/"
  const parts = path.split("/").filter((p) => p !== "")
  const name = parts[1] === undefined ? undefined : decodeURIComponent(parts.slice(1).join("/"))
  if (parts.length === 0) return { nav: "overview", title: "Overview", render: overviewPage }
  if (parts[0] === "topics" && name === undefined) return { nav: "topics", title: "Topics", render: topicsPage }
  if (parts[0] === "topics" && name !== undefined) {
    return { nav: "topics", title: `Topic ${name}`, render: (main, view) => topicPage(main, view, name) }
  }
  if (parts[0] === "groups" && name === undefined) return { nav: "groups", title: "Consumer groups", render: groupsPage }
  if (parts[0] === "groups" && name !== undefined) {
    return { nav: "groups", title: `Group ${name}`, render: (main, view) => groupPage(main, view, name) }
  }
  return undefined
}

const links = [
  { nav: "overview", href: "#/", text: "Overview" },
  { nav: "topics", href: "#/topics", text: "Topics" },
  { nav: "groups", href: "#/groups", text: "Groups" }
] as const

const header = h(
  "header",
  { class: "top" },
  h("a", { class: "skip", href: "#main", onclick: (e: Event) => {
    e.preventDefault()
    document.getElementById("main")?.focus()
  } }, "Skip to content"),
  h("a", { class: "brand", href: "#/" }, h("img", { src: "favicon.ico", alt: "", width: 20, height: 20 }), "Broker console"),
  h("nav", { "aria-label": "Main" }, h("ul", null, links.map((l) => h("li", null, h("a", { href: l.href, "data-nav": l.nav }, l.text)))))
)
const notices = h("div", { id: "notices", class: "notices" })
const main = h("main", { id: "main", tabindex: -1 })

let current: ReturnType<typeof makeView> | undefined

const show = () => {
  current?.leave()
  const found = route(location.hash)
  for (const link of header.querySelectorAll<HTMLAnchorElement>("[data-nav]")) {
    if (link.dataset["nav"] === found?.nav) link.setAttribute("aria-current", "page")
    else link.removeAttribute("aria-current")
  }
  replace(main)
  current = makeView()
  if (found === undefined) {
    document.title = "Not found · Broker console"
    replace(main, h("h1", null, "Not found"), h("p", null, "No page here. ", h("a", { href: "#/" }, "Back to the overview")))
    return
  }
  document.title = `${found.title} · Broker console`
  found.render(main, current)
  // After a navigation (not the first load) move focus to the new page, as a full page load would.
  if (started) main.focus({ preventScroll: false })
}

let started = false
replace(document.body, header, notices, main)
addEventListener("hashchange", show)
show()
started = true
