// Producer ids: handed out to idempotent producers and to transactional ids, never twice, restarts included.
import { Context, type Effect } from "effect"
import type { StorageError } from "../Errors.ts"

export class ProducerIds extends Context.Service<ProducerIds, {
  /** A producer id no one has had. */
  readonly next: Effect.Effect<number, StorageError>
}>()("kafka/ProducerIds") {}
