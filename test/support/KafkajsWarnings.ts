// kafkajs 2.2.4 arms a timer for `throttledUntil - Date.now()` while `throttledUntil` is still -1
// (src/network/requestQueue/index.js), for which Node 24 prints a TimeoutNegativeWarning. Client noise, not a
// broker problem: a file using kafkajs filters it out between `filterWarnings` (beforeAll) and `restoreWarnings`
// (afterAll); every other warning is still printed.
const warningListeners = process.listeners("warning")

export const filterWarnings = (): void => {
  process.removeAllListeners("warning")
  process.on("warning", (warning) => {
    if (warning.name !== "TimeoutNegativeWarning") for (const listener of warningListeners) listener(warning)
  })
}

export const restoreWarnings = (): void => {
  process.removeAllListeners("warning")
  for (const listener of warningListeners) process.on("warning", listener)
}
