// `#/groups/<id>`: state and protocol, members with their assignments, committed offsets and lag per partition,
// the group's lag over the last minutes, and resetting its offsets (Kafka allows it only while the group is empty;
// the broker's refusal is shown as it came).
import type { GroupDetail } from "../../services/console/Views.ts"
import { api, ApiFailure, describeError } from "../api.ts"
import { timeChart } from "../charts.ts"
import { field, h, num, replace, table } from "../dom.ts"
import { count } from "../format.ts"
import { messageBox, renderIfChanged, say, type View } from "../view.ts"
import { protocolText, stateBadge } from "./groups.ts"
import { topicHref } from "./topics.ts"

const summary = (g: GroupDetail): HTMLElement =>
  h(
    "dl",
    { class: "stats" },
    h("div", { class: "stat" }, h("dt", null, "State"), h("dd", null, stateBadge(g.state))),
    h("div", { class: "stat" }, h("dt", null, "Protocol"), h("dd", null, protocolText(g))),
    h("div", { class: "stat" }, h("dt", null, "Members"), h("dd", null, count(g.members.length))),
    h("div", { class: "stat" }, h("dt", null, "Total lag"), h("dd", { "data-total-lag": g.lag }, count(g.lag)))
  )

const members = (g: GroupDetail): HTMLElement =>
  table(
    "Members",
    ["Member", "Client", "Host", "Instance", "Assignment"],
    g.members.map((m) => [
      h("code", null, m.memberId),
      m.clientId,
      m.clientHost,
      m.groupInstanceId ?? "–",
      m.assignment.length === 0
        ? h("span", { class: "null" }, "nothing")
        : h("ul", { class: "assignment" }, m.assignment.map((a) =>
          h("li", null, h("a", { href: topicHref(a.topic) }, a.topic), `: ${a.partitions.join(", ")}`)))
    ]),
    "No members: the group is empty."
  )

const offsets = (g: GroupDetail): HTMLElement =>
  table(
    "Committed offsets",
    ["Topic", num("Partition"), num("Committed"), num("Log end"), num("Lag")],
    [...g.offsets].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition).map((o) => [
      h("a", { href: topicHref(o.topic) }, o.topic),
      String(o.partition),
      count(o.committed),
      count(o.logEndOffset),
      h("span", { "data-lag": `${o.topic}-${o.partition}`, class: o.lag > 0 ? "lagging" : null }, count(o.lag))
    ]),
    "No committed offsets."
  )

export const groupPage = (main: HTMLElement, view: View, id: string): void => {
  const head = h("section", { class: "card", "aria-label": "Group" }, h("p", { class: "loading" }, "Loading…"))
  const membersBox = h("div", null)
  const offsetsBox = h("div", null)
  const chart = timeChart({ label: "Total lag over the last minutes", series: [{ label: "Lag", color: "--series-1" }], format: (n) => count(Math.round(n)), minTop: 10 })
  view.onLeave(chart.destroy)

  const topicSelect = h("select", { name: "topic" }, h("option", { value: "" }, "Every topic of the group"))
  const toSelect = h(
    "select",
    { name: "to" },
    h("option", { value: "earliest" }, "Earliest"),
    h("option", { value: "latest" }, "Latest"),
    h("option", { value: "offset" }, "An offset")
  )
  const offsetInput = h("input", { name: "offset", type: "number", min: 0, value: "0" })
  const offsetField = field("Offset", offsetInput)
  const resetStatus = h("div", { class: "form-status", id: "reset-status" })
  const resetButton = h("button", { type: "submit", class: "primary" }, "Reset offsets")
  const syncTo = () => (offsetField.hidden = toSelect.value !== "offset")
  toSelect.addEventListener("change", syncTo)
  syncTo()
  const resetForm = h(
    "form",
    { class: "card form", "aria-labelledby": "reset-title" },
    h("h2", { id: "reset-title" }, "Reset offsets"),
    h("p", { class: "muted" }, "Kafka resets a group's offsets only while the group is empty: stop its consumers first."),
    h("div", { class: "row" }, field("Topic", topicSelect), field("To", toSelect), offsetField),
    h("div", { class: "actions" }, resetButton),
    resetStatus
  )

  main.append(
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/groups" }, "Groups"), " / "),
    h("h1", null, id),
    head,
    h("figure", { class: "card rate" }, h("figcaption", null, h("span", null, "Lag over time")), chart.element),
    h("section", { class: "card", "aria-labelledby": "members-title" }, h("h2", { id: "members-title" }, "Members"), membersBox),
    h("section", { class: "card", "aria-labelledby": "offsets-title" }, h("h2", { id: "offsets-title" }, "Committed offsets and lag"), offsetsBox),
    resetForm
  )

  const render = (g: GroupDetail) => {
    renderIfChanged(head, [g.state, g.protocolType, g.protocol, g.members.length, g.lag], () => summary(g))
    renderIfChanged(membersBox, g.members, () => members(g))
    renderIfChanged(offsetsBox, g.offsets, () => offsets(g))
    const topics = [...new Set(g.offsets.map((o) => o.topic))].sort()
    const have = new Set([...topicSelect.options].map((o) => o.value))
    for (const t of topics) if (!have.has(t)) topicSelect.append(h("option", { value: t }, t))
    chart.update(g.lagHistory.map((s) => s.at), [g.lagHistory.map((s) => s.lag)])
  }

  let gone = false
  view.every(2000, async () => {
    if (gone) return
    try {
      const g = await api.group(id)
      if (view.alive()) render(g)
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 404) {
        gone = true
        replace(main, h("h1", null, id), messageBox("error", `There is no group ${id}.`), h("p", null, h("a", { href: "#/groups" }, "All groups")))
        return
      }
      throw error
    }
  })

  resetForm.addEventListener("submit", async (event) => {
    event.preventDefault()
    resetButton.disabled = true
    try {
      const to = toSelect.value as "earliest" | "latest" | "offset"
      const g = await api.resetOffsets(id, {
        ...(topicSelect.value !== "" ? { topic: topicSelect.value } : {}),
        to,
        ...(to === "offset" ? { offset: Number(offsetInput.value || 0) } : {})
      })
      if (view.alive()) render(g)
      say(resetStatus, "success", `Offsets reset to ${to === "offset" ? `offset ${offsetInput.value}` : to}.`)
    } catch (error) {
      const text = error instanceof ApiFailure && error.status === 409
        ? `Not reset: ${describeError(error)}. The group still has members; stop its consumers and try again.`
        : `Could not reset offsets: ${describeError(error)}`
      say(resetStatus, "error", text)
    } finally {
      resetButton.disabled = false
    }
  })
}
