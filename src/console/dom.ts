// A few lines of DOM building instead of a framework: `h("a", { href }, "text", child)` makes an element.

type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>

export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: ReadonlyArray<Child | ReadonlyArray<Child>>
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value)
    else if (value === true) element.setAttribute(name, "")
    else element.setAttribute(name, String(value))
  }
  append(element, children)
  return element
}

export const append = (parent: Node, children: ReadonlyArray<Child | ReadonlyArray<Child>>): void => {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)))
  }
}

/** Replaces everything inside `parent`. */
export const replace = (parent: Element, ...children: ReadonlyArray<Child | ReadonlyArray<Child>>): void => {
  parent.replaceChildren()
  append(parent, children)
}

/** A table with a caption-less header row; `rows` are arrays of cells. */
export const table = (
  label: string,
  headers: ReadonlyArray<string | { readonly text: string; readonly numeric: boolean }>,
  rows: ReadonlyArray<ReadonlyArray<Child>>,
  empty = "None"
): HTMLElement => {
  const numeric = headers.map((head) => typeof head !== "string" && head.numeric)
  if (rows.length === 0) return h("p", { class: "empty" }, empty)
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "aria-label": label },
      h("thead", null, h("tr", null, headers.map((head, i) =>
        h("th", { scope: "col", class: numeric[i] ? "num" : null }, typeof head === "string" ? head : head.text)))),
      h("tbody", null, rows.map((row) =>
        h("tr", null, row.map((cell, i) => h("td", { class: numeric[i] ? "num" : null }, cell)))))
    )
  )
}

export const num = (text: string) => ({ text, numeric: true })

let ids = 0
/** A labelled form control: the label names the control for screen readers and clicking it focuses the control. */
export const field = (label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string) => {
  control.id ||= `field-${++ids}`
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hint ? h("small", null, hint) : null)
}
