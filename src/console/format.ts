// How numbers, sizes and times read on the page.

const integer = new Intl.NumberFormat("en-US")

export const count = (n: number): string => integer.format(n)

export const bytes = (n: number): string => {
  if (n < 1024) return `${Math.round(n)} B`
  const units = ["KiB", "MiB", "GiB", "TiB"]
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

export const rate = (n: number): string => (n >= 100 ? integer.format(Math.round(n)) : n.toFixed(n === 0 ? 0 : 1))

export const bytesRate = (n: number): string => `${bytes(Math.round(n))}/s`

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** Local time with milliseconds: 2024-05-01 13:04:05.123 */
export const timestamp = (ms: number): string => {
  if (ms < 0) return "none"
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${
    pad(d.getSeconds())
  }.${pad(d.getMilliseconds(), 3)}`
}
