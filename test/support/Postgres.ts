// The tests' throwaway PostgreSQL server: bench/postgres.ts (shared with the benchmark), and the skip of a suite
// when PostgreSQL is not installed.
import { POSTGRES_INSTALL, postgresInstalled } from "../../bench/postgres.ts"
import { requireClient } from "./Installed.ts"

export { type Postgres, POSTGRES_INSTALL, postgresBin, postgresInstalled, startPostgres } from "../../bench/postgres.ts"

/** In the current suite: a skipped test naming the install command when PostgreSQL is missing (failing under CI). */
export const requirePostgres = (): void => requireClient("PostgreSQL", postgresInstalled, POSTGRES_INSTALL)
