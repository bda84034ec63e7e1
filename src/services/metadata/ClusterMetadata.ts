// The metadata subsystem's service: the current image (services/metadata/MetadataImage.ts) and the one way to
// change it, an update committed to the metadata log before anyone sees it.
import { Context, type Effect } from "effect"
import type { NewMetadataRecord } from "../../protocol/MetadataRecords.ts"
import type { StorageError } from "../Errors.ts"
import type { MetadataImage } from "./MetadataImage.ts"

/** What an update writes to the metadata log, and what it returns to its caller. */
export interface Update<A> {
  readonly records: ReadonlyArray<NewMetadataRecord>
  readonly result: A
}

export interface MetadataLogPosition {
  /** The log end offset: every record below it is committed (this node is the only voter). */
  readonly endOffset: number
  readonly epoch: number
}

export class ClusterMetadata extends Context.Service<ClusterMetadata, {
  readonly clusterId: string
  /** The current image; cheap, and stable for as long as the caller holds it. */
  readonly image: Effect.Effect<MetadataImage>
  /** Where the metadata log stands: the offset its next record gets, and this node's Raft epoch as its leader. */
  readonly log: Effect.Effect<MetadataLogPosition>
  /**
   * Decides on the current image and commits: one update at a time, so what `decide` checked still holds
   * when its records are written. The records are appended durably to the metadata log as one batch, then
   * applied; every later `image` includes them, on every connection.
   */
  readonly update: <A, E, R>(
    decide: (image: MetadataImage) => Effect.Effect<Update<A>, E, R>
  ) => Effect.Effect<A, E | StorageError, R>
}>()("kafka/ClusterMetadata") {}

