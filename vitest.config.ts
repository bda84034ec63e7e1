import { defineConfig } from "vitest/config"
import { postgresInstalled } from "./bench/postgres.ts"

const ci = process.env["CI"] !== undefined && !["", "0", "false"].includes(process.env["CI"].toLowerCase())

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The JSON report is what CI counts passes and failures from.
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    projects: [
      { extends: true, test: { name: "broker", include: ["test/**/*.test.ts"] } },
      // The group coordinator's suites again with the partition logs (the offsets log among them) in
      // PostgreSQL (test/support/SqlLogStores.ts): one suite, run against each LogStore. Without PostgreSQL
      // the PostgreSQL tests of the first project are skipped (failed under CI) and this one is left out.
      ...(postgresInstalled || ci
        ? [{
          extends: true as const,
          test: {
            name: "groups over postgresql",
            include: ["test/unit/GroupCoordinator.test.ts", "test/unit/ConsumerGroups.test.ts"],
            env: { BROKER_TEST_LOG_STORE: "postgresql" }
          }
        }]
        : [])
    ]
  }
})
