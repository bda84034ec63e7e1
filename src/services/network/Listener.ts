// The addresses the broker listens on, once it does (a configured port may be 0: any free port). `host` and
// `port` are the first listener's; `listeners` has them all. `reloadTls` reads every TLS listener's keystore
// and truststore again (SIGHUP does the same): new connections use them, open ones keep theirs.
import { Context, type Effect } from "effect"
import type { InvalidConfig, SecurityProtocol } from "../config/BrokerConfig.ts"

export interface BoundListener {
  readonly name: string
  readonly protocol: SecurityProtocol
  readonly host: string
  readonly port: number
}

export class Listener extends Context.Service<Listener, {
  readonly host: string
  readonly port: number
  readonly listeners: ReadonlyArray<BoundListener>
  readonly reloadTls: Effect.Effect<void, InvalidConfig>
}>()("kafka/Listener") {}
