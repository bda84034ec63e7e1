// `#/`: the cluster at a glance: brokers, topics, and live rates (messages in, bytes in and out per second, polled
// from /api/rates every second).
import type { Overview, Rates } from "../../services/console/Views.ts"
import { api } from "../api.ts"
import { timeChart } from "../charts.ts"
import { h, table } from "../dom.ts"
import { bytes, bytesRate, count, rate } from "../format.ts"
import { renderIfChanged, type View } from "../view.ts"
import { topicsTable } from "./topics.ts"

const stat = (label: string, value: string, href?: string) =>
  h("div", { class: "stat" }, h("dt", null, label), h("dd", null, href ? h("a", { href }, value) : value))

const rateCharts = [
  { key: "messagesIn", title: "Messages in", unit: "msg/s", color: "--series-1", format: rate, axis: rate, minTop: 10 },
  { key: "bytesIn", title: "Bytes in", unit: "", color: "--series-2", format: bytesRate, axis: bytes, minTop: 1024 },
  { key: "bytesOut", title: "Bytes out (consumed)", unit: "", color: "--series-3", format: bytesRate, axis: bytes, minTop: 1024 }
] as const

export const overviewPage = (main: HTMLElement, view: View): void => {
  const summary = h("section", { class: "card", "aria-label": "Cluster" }, h("p", { class: "loading" }, "Loading…"))
  const brokers = h("section", { class: "card", "aria-labelledby": "brokers-title" })
  const topics = h("section", { class: "card", "aria-labelledby": "overview-topics-title" })

  const charts = rateCharts.map((c) => {
    const chart = timeChart({ label: `${c.title} per second, last minutes`, series: [{ label: c.title, color: c.color }], format: c.format, axisFormat: c.axis, minTop: c.minTop })
    const now = h("output", { class: "now", "data-rate": c.key, "aria-live": "off" }, "–")
    const box = h("figure", { class: "card rate", "data-chart": c.key }, h("figcaption", null, h("span", null, c.title), now), chart.element)
    view.onLeave(chart.destroy)
    return { ...c, chart, now, box }
  })

  main.append(
    h("h1", null, "Overview"),
    summary,
    h("section", { "aria-label": "Rates" , class: "rates" }, charts.map((c) => c.box)),
    h("div", { class: "columns" }, topics, brokers)
  )

  const renderOverview = (o: Overview) => {
    const messages = o.topics.reduce((n, t) => n + t.messages, 0)
    const size = o.topics.reduce((n, t) => n + t.bytes, 0)
    renderIfChanged(summary, { ...o, topics: [messages, size, o.topics.length] }, () =>
      h("dl", { class: "stats" },
        stat("Cluster", o.clusterId),
        stat("Version", o.version),
        stat("Brokers", count(o.brokers.length)),
        stat("Topics", count(o.topics.length), "#/topics"),
        stat("Messages", count(messages)),
        stat("Stored", bytes(size)),
        stat("Groups", count(o.groups), "#/groups")))
    renderIfChanged(brokers, o.brokers, (list) => [
      h("h2", { id: "brokers-title" }, "Brokers"),
      table("Brokers", ["Node", "Address", "Listener", "Role"], list.map((b) => [
        String(b.nodeId),
        `${b.host}:${b.port}`,
        b.listener,
        b.controller ? "controller" : "broker"
      ]))
    ])
    renderIfChanged(topics, o.topics, (list) => [h("h2", { id: "overview-topics-title" }, "Topics"), topicsTable(list)])
  }

  const renderRates = (r: Rates) => {
    const times = r.samples.map((s) => s.at)
    for (const c of charts) {
      const values = r.samples.map((s) => s[c.key])
      c.chart.update(times, [values])
      const last = values.at(-1) ?? 0
      c.now.textContent = c.unit ? `${c.format(last)} ${c.unit}` : c.format(last)
      c.box.dataset["last"] = String(last)
      c.box.dataset["max"] = String(Math.max(0, ...values))
    }
  }

  view.every(3000, async () => {
    const o = await api.overview()
    if (view.alive()) renderOverview(o)
  })
  view.every(1000, async () => {
    const r = await api.rates()
    if (view.alive()) renderRates(r)
  })
}
