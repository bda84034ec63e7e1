// `#/topics/<name>`: partitions (log start, high watermark, size), configs with their sources, the message browser
// (newest first, from the oldest, an offset or a time; one partition or all; a search over the loaded page), the
// produce form, and deleting the topic after typing its name.
import type { ConfigView, MessageView, Rendered, TopicDetail } from "../../services/console/Views.ts"
import { api, ApiFailure, describeError, type MessageQuery } from "../api.ts"
import { field, h, num, replace, table } from "../dom.ts"
import { bytes, count, timestamp } from "../format.ts"
import { messageBox, renderIfChanged, say, type View } from "../view.ts"
import { parsePairs } from "./topics.ts"

const rendered = (r: Rendered | null, what: string): HTMLElement =>
  r === null
    ? h("span", { class: "null" }, "null")
    : h(
      "div",
      { class: `rendered ${r.kind}` },
      h("span", { class: "badge", title: `${what} shown as ${r.kind}, ${r.size} bytes` }, `${r.kind} · ${bytes(r.size)}`),
      h("pre", { "data-kind": r.kind, tabindex: r.text.length > 200 ? 0 : null }, r.text)
    )

const messageText = (m: MessageView): string =>
  [m.key?.text ?? "", m.value?.text ?? "", ...m.headers.flatMap((hd) => [hd.key, hd.value?.text ?? ""]), String(m.offset)]
    .join("\n")
    .toLowerCase()

const partitionsSection = (detail: TopicDetail): Array<Node> => {
  const total = detail.partitions.reduce(
    (acc, p) => ({ messages: acc.messages + p.highWatermark - p.logStartOffset, bytes: acc.bytes + p.bytes }),
    { messages: 0, bytes: 0 }
  )
  return [
    h("h2", { id: "partitions-title" }, `Partitions (${detail.partitions.length})`),
    h("p", { class: "muted" }, `${count(total.messages)} messages, ${bytes(total.bytes)}. Topic id ${detail.id}.`),
    table(
      "Partitions",
      [num("Partition"), num("Leader"), num("Epoch"), num("Log start"), num("High watermark"), num("Messages"), num("Size")],
      detail.partitions.map((p) => [
        String(p.partition),
        String(p.leader),
        String(p.leaderEpoch),
        count(p.logStartOffset),
        count(p.highWatermark),
        count(p.highWatermark - p.logStartOffset),
        bytes(p.bytes)
      ])
    )
  ]
}

const configsSection = (configs: ReadonlyArray<ConfigView>, showDefaults: boolean): HTMLElement => {
  const shown = configs.filter((c) => showDefaults || !c.isDefault)
  return table(
    "Configs",
    ["Name", "Value", "Source"],
    [...shown].sort((a, b) => a.name.localeCompare(b.name)).map((c) => [
      h("code", null, c.name),
      c.sensitive || c.value === null ? h("span", { class: "null" }, "(sensitive)") : h("code", { class: "value" }, c.value),
      h("span", { class: `source ${c.isDefault ? "default" : "set"}` }, c.source, c.readOnly ? " · read-only" : "")
    ]),
    "Every config has its default value."
  )
}

export const topicPage = (main: HTMLElement, view: View, name: string): void => {
  const status = h("div", { class: "page-status" })
  const partitions = h("section", { class: "card", "aria-labelledby": "partitions-title" }, h("p", { class: "loading" }, "Loading…"))
  const configs = h("div", null)
  const showDefaults = h("input", { type: "checkbox", id: "show-defaults" })
  let detail: TopicDetail | undefined

  // The message browser.
  const partitionSelect = h("select", { name: "partition" }, h("option", { value: "all" }, "All"))
  const fromSelect = h(
    "select",
    { name: "from" },
    h("option", { value: "newest" }, "Newest first"),
    h("option", { value: "oldest" }, "Oldest first"),
    h("option", { value: "offset" }, "From an offset"),
    h("option", { value: "timestamp" }, "From a time")
  )
  const offsetInput = h("input", { name: "offset", type: "number", min: 0, value: "0" })
  const timeInput = h("input", { name: "timestamp", type: "datetime-local", step: 1 })
  const limitSelect = h("select", { name: "limit" }, [20, 50, 100, 500].map((n) => h("option", { value: n, selected: n === 20 }, String(n))))
  const search = h("input", { type: "search", name: "search", placeholder: "key, value, header…", autocomplete: "off" })
  const offsetField = field("Offset", offsetInput)
  const timeField = field("Time", timeInput)
  const results = h("div", { class: "messages", "aria-live": "polite" })
  const counter = h("p", { class: "muted", "aria-live": "polite" })
  let loaded: ReadonlyArray<MessageView> = []

  const syncFrom = () => {
    offsetField.hidden = fromSelect.value !== "offset"
    timeField.hidden = fromSelect.value !== "timestamp"
  }
  fromSelect.addEventListener("change", syncFrom)
  syncFrom()

  const renderMessages = () => {
    const term = search.value.trim().toLowerCase()
    const shown = term === "" ? loaded : loaded.filter((m) => messageText(m).includes(term))
    counter.textContent = term === ""
      ? `${loaded.length} message${loaded.length === 1 ? "" : "s"} loaded.`
      : `${shown.length} of ${loaded.length} loaded messages match “${search.value.trim()}”.`
    if (loaded.length === 0) return replace(results, h("p", { class: "empty" }, "No messages here."))
    replace(
      results,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "message-table", "aria-label": "Messages" },
          h("thead", null, h("tr", null, ["Partition", "Offset", "Timestamp", "Key", "Value", "Headers"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, shown.map((m) =>
            h(
              "tr",
              { "data-offset": m.offset, "data-partition": m.partition },
              h("td", { class: "num" }, String(m.partition)),
              h("td", { class: "num" }, count(m.offset)),
              h("td", { class: "time" }, timestamp(m.timestamp), h("small", null, m.timestampType, m.compression !== "none" ? ` · ${m.compression}` : "")),
              h("td", { class: "key" }, rendered(m.key, "key")),
              h("td", { class: "value" }, rendered(m.value, "value")),
              h(
                "td",
                { class: "headers" },
                m.headers.length === 0
                  ? h("span", { class: "null" }, "none")
                  : h("dl", null, m.headers.flatMap((hd) => [h("dt", null, hd.key), h("dd", null, rendered(hd.value, "header"))]))
              )
            )))
        )
      )
    )
  }
  search.addEventListener("input", renderMessages)

  const loadButton = h("button", { type: "submit", class: "primary" }, "Load")
  const browser = h(
    "form",
    { class: "browser-controls", "aria-label": "Which messages" },
    field("Partition", partitionSelect),
    field("Start", fromSelect),
    offsetField,
    timeField,
    field("Limit", limitSelect),
    h("div", { class: "actions" }, loadButton),
    h("div", { class: "field search" }, h("label", { for: "message-search" }, "Search loaded"), Object.assign(search, { id: "message-search" }))
  )
  const loadMessages = async () => {
    loadButton.disabled = true
    try {
      const from = fromSelect.value as MessageQuery["from"]
      const query: MessageQuery = {
        partition: partitionSelect.value === "all" ? "all" : Number(partitionSelect.value),
        from,
        limit: Number(limitSelect.value),
        ...(from === "offset" ? { offset: Number(offsetInput.value || 0) } : {}),
        ...(from === "timestamp" ? { timestamp: timeInput.value ? new Date(timeInput.value).getTime() : 0 } : {})
      }
      const page = await api.messages(name, query)
      if (!view.alive()) return
      loaded = page.messages
      renderMessages()
    } catch (error) {
      replace(results, messageBox("error", `Could not read messages: ${describeError(error)}`))
    } finally {
      loadButton.disabled = false
    }
  }
  browser.addEventListener("submit", (e) => {
    e.preventDefault()
    void loadMessages()
  })

  // Producing.
  const producePartition = h("select", { name: "partition" }, h("option", { value: "" }, "By key (default)"))
  const key = h("input", { name: "key", autocomplete: "off", placeholder: "none" })
  const value = h("textarea", { name: "value", rows: 4, spellcheck: "false", placeholder: "{\"hello\": \"world\"}" })
  const headers = h("textarea", { name: "headers", rows: 2, spellcheck: "false", placeholder: "trace-id=abc123" })
  const produceStatus = h("div", { class: "form-status" })
  const produceButton = h("button", { type: "submit", class: "primary" }, "Produce")
  const produceForm = h(
    "form",
    { class: "card form", "aria-labelledby": "produce-title" },
    h("h2", { id: "produce-title" }, "Produce a message"),
    h("div", { class: "row" }, field("Partition", producePartition), field("Key", key)),
    field("Value", value),
    field("Headers (one key=value per line)", headers),
    h("div", { class: "actions" }, produceButton),
    produceStatus
  )
  produceForm.addEventListener("submit", async (event) => {
    event.preventDefault()
    produceButton.disabled = true
    try {
      const result = await api.produce(name, {
        ...(producePartition.value !== "" ? { partition: Number(producePartition.value) } : {}),
        key: key.value === "" ? null : key.value,
        value: value.value,
        headers: parsePairs(headers.value, "Headers")
      })
      say(produceStatus, "success", `Produced to partition ${result.partition} at offset ${result.offset}.`)
      await Promise.all([refresh(), fromSelect.value === "newest" ? loadMessages() : Promise.resolve()])
    } catch (error) {
      say(produceStatus, "error", `Could not produce: ${describeError(error)}`)
    } finally {
      produceButton.disabled = false
    }
  })

  // Deleting, after typing the name.
  const confirmInput = h("input", { autocomplete: "off", spellcheck: "false", id: "confirm-delete-name" })
  const confirmButton = h("button", { type: "submit", class: "danger", disabled: true }, "Delete this topic")
  const dialogStatus = h("div", { class: "form-status" })
  const dialog = h(
    "dialog",
    { "aria-labelledby": "delete-title" },
    h(
      "form",
      { method: "dialog", class: "form" },
      h("h2", { id: "delete-title" }, `Delete topic ${name}?`),
      h("p", null, "Every partition and message of this topic is removed. This cannot be undone."),
      h("div", { class: "field" }, h("label", { for: confirmInput.id }, "Type the topic name to confirm"), confirmInput),
      dialogStatus,
      h("div", { class: "actions" }, h("button", { type: "button", value: "cancel", onclick: () => dialog.close() }, "Cancel"), confirmButton)
    )
  )
  confirmInput.addEventListener("input", () => (confirmButton.disabled = confirmInput.value !== name))
  dialog.querySelector("form")!.addEventListener("submit", async (event) => {
    event.preventDefault()
    confirmButton.disabled = true
    try {
      await api.deleteTopic(name)
      dialog.close()
      view.navigate("#/topics")
    } catch (error) {
      say(dialogStatus, "error", `Could not delete: ${describeError(error)}`)
      confirmButton.disabled = false
    }
  })
  const deleteButton = h("button", { type: "button", class: "danger", onclick: () => {
    confirmInput.value = ""
    confirmButton.disabled = true
    replace(dialogStatus)
    dialog.showModal()
  } }, "Delete topic…")
  view.onLeave(() => dialog.open && dialog.close())

  main.append(
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/topics" }, "Topics"), " / "),
    h("div", { class: "title-row" }, h("h1", null, name), deleteButton),
    status,
    h("div", { class: "columns" }, partitions, produceForm),
    h(
      "section",
      { class: "card", "aria-labelledby": "messages-title" },
      h("h2", { id: "messages-title" }, "Messages"),
      browser,
      counter,
      results
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "configs-title" },
      h("div", { class: "title-row" }, h("h2", { id: "configs-title" }, "Configs"), h("label", { class: "check" }, showDefaults, "Show defaults")),
      configs
    ),
    dialog
  )

  const renderConfigs = () =>
    detail && renderIfChanged(configs, { configs: detail.configs, all: showDefaults.checked }, (c) => configsSection(c.configs, c.all))
  showDefaults.addEventListener("change", renderConfigs)

  const fillPartitions = (select: HTMLSelectElement, d: TopicDetail) => {
    const have = select.options.length - 1
    for (const p of d.partitions.slice(have)) select.append(h("option", { value: p.partition }, String(p.partition)))
  }

  let first = true
  let gone = false
  const refresh = async () => {
    if (gone) return
    try {
      const d = await api.topic(name)
      if (!view.alive()) return
      detail = d
      renderIfChanged(partitions, d.partitions, () => partitionsSection(d))
      fillPartitions(partitionSelect, d)
      fillPartitions(producePartition, d)
      renderConfigs()
      if (first) {
        first = false
        await loadMessages()
      }
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 404) {
        gone = true
        replace(main, h("h1", null, name), messageBox("error", `There is no topic ${name}.`), h("p", null, h("a", { href: "#/topics" }, "All topics")))
        return
      }
      throw error
    }
  }
  view.every(5000, refresh)
}
