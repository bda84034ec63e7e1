// What the console and `/metrics` read of the broker's state: every partition's offsets and size, every group's
// committed offsets and lag. One reading for both, so that the page and the scrape agree.
import { Effect } from "effect"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { LogStore } from "../log/LogStore.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { sortedTopics, type TopicInfo } from "../metadata/MetadataImage.ts"

export interface PartitionState {
  readonly topic: string
  readonly partition: number
  readonly leader: number
  readonly leaderEpoch: number
  readonly logStartOffset: number
  readonly logEndOffset: number
  readonly bytes: number
}

/** The partitions of a topic with their offsets and sizes (one deleted meanwhile is left out). */
export const partitionsOf = (topic: TopicInfo) =>
  Effect.gen(function*() {
    const store = yield* LogStore
    const out: Array<PartitionState> = []
    for (const [partition, info] of topic.partitions.entries()) {
      const tp = { topic: topic.name, partition }
      const read = Effect.all([store.offsets(tp), store.partitionSize(tp)])
      const got = yield* Effect.option(read)
      if (got._tag === "None") continue
      const [offsets, bytes] = got.value
      out.push({
        topic: topic.name,
        partition,
        leader: info.leader,
        leaderEpoch: info.leaderEpoch,
        logStartOffset: offsets.logStartOffset,
        logEndOffset: offsets.logEndOffset,
        bytes
      })
    }
    return out
  })

/** Every topic (by name) with its partitions' states. */
export const allPartitions = Effect.gen(function*() {
  const image = yield* (yield* ClusterMetadata).image
  return yield* Effect.forEach(sortedTopics(image), (t) => Effect.map(partitionsOf(t), (partitions) => ({ topic: t, partitions })))
})

export interface GroupOffset {
  readonly topic: string
  readonly partition: number
  readonly committed: number
  readonly logEndOffset: number
  /** Records between the committed offset and the log end (never negative). */
  readonly lag: number
}

/** A group's committed offsets with the lag of each, for partitions that still exist. */
export const groupOffsets = (groupId: string) =>
  Effect.gen(function*() {
    const store = yield* LogStore
    const committed = yield* (yield* GroupCoordinator).committed(groupId, null)
    const out: Array<GroupOffset> = []
    for (const c of committed) {
      if (c.committed === undefined) continue
      const offsets = yield* Effect.option(store.offsets({ topic: c.topic, partition: c.partition }))
      if (offsets._tag === "None") continue
      const logEndOffset = offsets.value.logEndOffset
      out.push({ topic: c.topic, partition: c.partition, committed: c.committed.offset, logEndOffset, lag: Math.max(0, logEndOffset - c.committed.offset) })
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
  })
