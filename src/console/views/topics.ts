// `#/topics`: every topic, and the form that creates one.
import type { TopicSummary } from "../../services/console/Views.ts"
import { api, describeError } from "../api.ts"
import { field, h, num, table } from "../dom.ts"
import { bytes, count } from "../format.ts"
import { renderIfChanged, say, type View } from "../view.ts"

export const topicHref = (name: string): string => `#/topics/${encodeURIComponent(name)}`

export const topicsTable = (topics: ReadonlyArray<TopicSummary>): HTMLElement =>
  table(
    "Topics",
    ["Topic", num("Partitions"), num("Messages"), num("Size")],
    [...topics].sort((a, b) => a.name.localeCompare(b.name)).map((t) => [
      h("a", { href: topicHref(t.name) }, t.name),
      count(t.partitions),
      count(t.messages),
      bytes(t.bytes)
    ]),
    "No topics yet. Create one below, or produce to a new topic name with any Kafka client."
  )

/** Parses `key=value` lines (blank lines skipped). */
export const parsePairs = (text: string, what: string): Array<{ key: string; value: string }> =>
  text.split("\n").map((line) => line.trim()).filter((line) => line !== "").map((line) => {
    const at = line.indexOf("=")
    if (at <= 0) throw new Error(`${what}: "${line}" is not key=value`)
    return { key: line.slice(0, at).trim(), value: line.slice(at + 1) }
  })

export const createTopicForm = (view: View): HTMLElement => {
  const name = h("input", { name: "name", required: true, autocomplete: "off", pattern: "[a-zA-Z0-9._\\-]+", maxlength: 249 })
  const partitions = h("input", { name: "partitions", type: "number", min: 1, max: 10000, placeholder: "broker default" })
  const configs = h("textarea", { name: "configs", rows: 2, placeholder: "retention.ms=86400000", spellcheck: "false" })
  const status = h("div", { class: "form-status" })
  const submit = h("button", { type: "submit", class: "primary" }, "Create topic")
  const form = h(
    "form",
    { class: "card form", "aria-labelledby": "create-topic-title" },
    h("h2", { id: "create-topic-title" }, "Create a topic"),
    h(
      "div",
      { class: "row" },
      field("Name", name, "Letters, digits, . _ and -"),
      field("Partitions", partitions)
    ),
    field("Configs (optional, one key=value per line)", configs),
    h("div", { class: "actions" }, submit),
    status
  )
  form.addEventListener("submit", async (event) => {
    event.preventDefault()
    submit.disabled = true
    try {
      const topicName = name.value.trim()
      const pairs = parsePairs(configs.value, "Configs")
      await api.createTopic({
        name: topicName,
        ...(partitions.value !== "" ? { partitions: Number(partitions.value) } : {}),
        ...(pairs.length > 0 ? { configs: Object.fromEntries(pairs.map((p) => [p.key, p.value])) } : {})
      })
      say(status, "success", `Created topic ${topicName}.`)
      view.navigate(topicHref(topicName))
    } catch (error) {
      say(status, "error", `Could not create the topic: ${describeError(error)}`)
    } finally {
      submit.disabled = false
    }
  })
  return form
}

export const topicsPage = (main: HTMLElement, view: View): void => {
  const list = h("section", { class: "card", "aria-labelledby": "topics-title" }, h("p", { class: "loading" }, "Loading…"))
  main.append(h("h1", null, "Topics"), h("div", { class: "card-wrap" }, list), createTopicForm(view))
  view.every(5000, async () => {
    const topics = await api.topics()
    if (!view.alive()) return
    renderIfChanged(list, topics, (t) => [h("h2", { id: "topics-title" }, `${t.length} topic${t.length === 1 ? "" : "s"}`), topicsTable(t)])
  })
}
