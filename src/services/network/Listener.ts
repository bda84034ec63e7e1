// The address the broker listens on, once it does (the configured port may be 0: any free port).
import { Context } from "effect"

export class Listener extends Context.Service<Listener, {
  readonly host: string
  readonly port: number
}>()("kafka/Listener") {}
