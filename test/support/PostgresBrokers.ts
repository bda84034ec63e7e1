// Broker processes over one throwaway PostgreSQL database (storage.url), for a describe block: the server and
// brokers 1..count start before its tests and stop after them. `brokers` is the live list the tests may replace
// entries of (a broker killed and started again); `propertiesOf(id)` is what a broker of the cluster is started with.
import { afterAll, beforeAll } from "vitest"
import { startBroker, type BrokerProcess } from "./BrokerProcess.ts"
import { type Postgres, startPostgres } from "./Postgres.ts"

export interface PostgresBrokers {
  readonly brokers: Array<BrokerProcess>
  readonly propertiesOf: (id: number) => Record<string, string>
}

export const postgresBrokers = (options: {
  /** Whether the test can run (PostgreSQL and its clients installed); when not, nothing starts. */
  readonly ready: boolean
  readonly count: number
  readonly sessionTimeoutMs: number
  readonly properties?: Readonly<Record<string, string>>
}): PostgresBrokers => {
  let pg: Postgres | undefined
  let url = ""
  const brokers: Array<BrokerProcess> = []
  const propertiesOf = (id: number) => ({
    "node.id": String(id),
    "storage.url": url,
    "broker.heartbeat.interval.ms": "200",
    "broker.session.timeout.ms": String(options.sessionTimeoutMs),
    ...options.properties
  })
  beforeAll(async () => {
    if (!options.ready) return
    pg = await startPostgres()
    url = await pg.createDatabase()
    for (let id = 1; id <= options.count; id++) brokers.push(await startBroker({ properties: propertiesOf(id) }))
  }, 90_000)
  afterAll(async () => {
    for (const b of brokers) await b.stop()
    await pg?.stop()
  })
  return { brokers, propertiesOf }
}
