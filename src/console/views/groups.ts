// `#/groups`: every consumer group with its state, protocol, members and total lag.
import type { GroupSummary } from "../../services/console/Views.ts"
import { api } from "../api.ts"
import { h, num, table } from "../dom.ts"
import { count } from "../format.ts"
import { renderIfChanged, type View } from "../view.ts"

export const groupHref = (id: string): string => `#/groups/${encodeURIComponent(id)}`

/** "consumer · range": the protocol type and, while the group has members, the chosen assignor or protocol. */
export const protocolText = (g: Pick<GroupSummary, "protocolType" | "protocol">): string =>
  [g.protocolType, g.protocol].filter((p) => p !== "").join(" · ") || "–"

export const stateBadge = (state: string): HTMLElement => h("span", { class: `state state-${state.toLowerCase().replace(/[^a-z]/g, "")}` }, state)

export const groupsPage = (main: HTMLElement, view: View): void => {
  const list = h("section", { class: "card", "aria-labelledby": "groups-title" }, h("p", { class: "loading" }, "Loading…"))
  main.append(h("h1", null, "Consumer groups"), list)
  view.every(3000, async () => {
    const groups = await api.groups()
    if (!view.alive()) return
    renderIfChanged(list, groups, (gs) => [
      h("h2", { id: "groups-title" }, `${gs.length} group${gs.length === 1 ? "" : "s"}`),
      table(
        "Consumer groups",
        ["Group", "State", "Protocol", num("Members"), num("Lag")],
        [...gs].sort((a, b) => a.groupId.localeCompare(b.groupId)).map((g) => [
          h("a", { href: groupHref(g.groupId) }, g.groupId),
          stateBadge(g.state),
          protocolText(g),
          count(g.members),
          h("span", { "data-lag": g.groupId }, count(g.lag))
        ]),
        "No consumer groups yet: they appear when a consumer joins a group or commits offsets."
      )
    ])
  })
}
