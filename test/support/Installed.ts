// Clients from Debian's packages are on the machine or not. `npm test` on a newcomer's machine runs without
// them: their suites are skipped, each naming the command that installs the client. Under CI (`.ci/run` sets
// CI=true and installs them first) a missing client fails, so a client is never skipped silently.
import { execFileSync } from "node:child_process"
import { assert, it } from "vitest"

const ci = process.env["CI"] !== undefined && !["", "0", "false"].includes(process.env["CI"]!.toLowerCase())

/** Whether `command` runs (with `args`, e.g. a version flag). */
export const runs = (command: string, args: ReadonlyArray<string>): boolean => {
  try {
    execFileSync(command, args, { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

/**
 * Declares, in the current suite, what a missing client means: a skipped test naming its install command, or
 * under CI a failing one.
 */
export const requireClient = (client: string, installed: boolean, install: string): void => {
  if (installed) return
  if (ci) it(`${client} is installed (CI installs it with: ${install})`, () => assert.fail(`${client} is missing: ${install}`))
  else it.skip(`${client} is not installed; to run these tests: ${install}`, () => undefined)
}
