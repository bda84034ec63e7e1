// The TLS listeners' certificates, for the config changes that touch them (the TCP listener provides this to
// the requests it serves): `check` loads a listener's TLS settings without applying them, so a keystore that
// does not load refuses the AlterConfigs; `reload` reads every TLS listener's again from the configuration in
// effect (the file's keys with this node's dynamic ones over them). New connections use them, open ones keep theirs.
import { Context, type Effect } from "effect"
import type { InvalidConfig, ListenerConfig } from "../config/BrokerConfig.ts"

export class Certificates extends Context.Service<Certificates, {
  readonly check: (listener: ListenerConfig) => Effect.Effect<void, InvalidConfig>
  readonly reload: Effect.Effect<void, InvalidConfig>
}>()("kafka/Certificates") {}
