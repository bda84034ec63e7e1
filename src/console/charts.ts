// Small time-series charts drawn by uPlot. Colours come from the page's CSS variables, read on every draw, so a
// switch between light and dark takes effect at the next redraw.
import uPlot from "uplot"
import { h } from "./dom.ts"

const cssVar = (name: string): string => getComputedStyle(document.documentElement).getPropertyValue(name).trim()

export interface TimeChart {
  readonly element: HTMLElement
  /** Times in ms, one array of values per series. */
  readonly update: (times: ReadonlyArray<number>, values: ReadonlyArray<ReadonlyArray<number>>) => void
  readonly destroy: () => void
}

export const timeChart = (options: {
  readonly label: string
  readonly series: ReadonlyArray<{ readonly label: string; readonly color: string }>
  readonly format: (n: number) => string
  /** For the y axis' ticks, shorter than `format`. */
  readonly axisFormat?: (n: number) => string
  readonly height?: number
  /** The y axis reaches at least this high, so an idle chart reads 0 against a sensible scale. */
  readonly minTop?: number
  /** The x axis spans at least this many seconds (ending at the last sample). */
  readonly minSpan?: number
}): TimeChart => {
  const element = h("div", { class: "chart", role: "img", "aria-label": options.label })
  const axis = (): uPlot.Axis => ({
    stroke: () => cssVar("--muted"),
    grid: { stroke: () => cssVar("--grid"), width: 1 },
    ticks: { stroke: () => cssVar("--grid"), width: 1 },
    font: "11px system-ui, sans-serif"
  })
  let plot: uPlot | undefined
  let data: uPlot.AlignedData = [[], ...options.series.map(() => [])]
  const create = (width: number) => {
    plot = new uPlot(
      {
        width,
        height: options.height ?? 140,
        legend: { show: options.series.length > 1 },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: (_u, min, max) => [Math.min(min, max - (options.minSpan ?? 60)), max] },
          y: { range: (_u, _min, max) => [0, Math.max(options.minTop ?? 1, max * 1.1)] }
        },
        axes: [axis(), { ...axis(), size: 64, values: (_u, ticks) => ticks.map(options.axisFormat ?? options.format) }],
        series: [
          {},
          ...options.series.map((s) => ({
            label: s.label,
            stroke: () => cssVar(s.color),
            fill: () => cssVar(s.color) + "26",
            width: 1.5,
            points: { show: false },
            value: (_u: uPlot, v: number | null) => (v === null ? "–" : options.format(v))
          }))
        ]
      },
      data,
      element
    )
  }
  const resize = new ResizeObserver(() => {
    const width = Math.max(200, Math.floor(element.clientWidth))
    if (plot === undefined) create(width)
    else if (plot.width !== width) plot.setSize({ width, height: plot.height })
  })
  resize.observe(element)
  const scheme = matchMedia("(prefers-color-scheme: dark)")
  const redraw = () => plot?.redraw(false, true)
  scheme.addEventListener("change", redraw)
  return {
    element,
    update: (times, values) => {
      data = [times.map((t) => t / 1000), ...values.map((v) => [...v])]
      plot?.setData(data)
    },
    destroy: () => {
      resize.disconnect()
      scheme.removeEventListener("change", redraw)
      plot?.destroy()
    }
  }
}
