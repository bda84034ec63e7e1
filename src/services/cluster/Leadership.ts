// Who leads each partition when the brokers are stateless (every broker reads and writes the same shared
// storage): a pure function of the metadata image and the live nodes, so whichever node computes it, and however
// often, the answer is the same. The controller (the lowest live node) writes the changes it gives as
// PartitionChangeRecords; replaying them bumps the leader epoch of each partition whose leader changed.
//
// - A partition is led by its first live replica: the preferred leader while it is up, the next replica while it
//   is not, the preferred one again once it is back (Kafka's preferred leader election).
// - When none of its replicas is live, the live node ranked first for the partition by rendezvous hashing takes it
//   and becomes a replica: with the data in shared storage any node can serve any partition, and the choice moves
//   as few partitions as possible when nodes come and go.
// - The ISR is the live replicas (the storage is shared, so a live replica is never behind).
// - The replicas are those a topic was created with, or those a reassignment gave (AlterPartitionReassignments,
//   complete as soon as written since nothing is copied); a reassignment and a leader election write the same
//   leader and ISR as these rules (`partitionChange`), so reconciling never undoes them.
import { type NewMetadataRecord, NO_LEADER, NO_LEADER_CHANGE } from "../../protocol/MetadataRecords.ts"
import type { MetadataImage, PartitionInfo } from "../metadata/MetadataImage.ts"

/** 32-bit FNV-1a of a string, then a murmur3 finalizer so that close inputs spread. */
const hash32 = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** The node of `nodes` ranked first for `key` by rendezvous (highest random weight) hashing; ties by lower id. */
export const rendezvous = (key: string, nodes: ReadonlyArray<number>): number | undefined => {
  let best: number | undefined
  let bestScore = -1
  for (const node of nodes) {
    const score = hash32(`${key}/${node}`)
    if (score > bestScore || (score === bestScore && best !== undefined && node < best)) {
      best = node
      bestScore = score
    }
  }
  return best
}

const sameList = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.length === b.length && a.every((n, i) => b[i] === n)

/**
 * The PartitionChangeRecord that gives `p` the replicas `replicas`, led by the first live one (-1 when none is)
 * with the live ones as ISR; undefined when the partition is so already. The leader is written only when it
 * changes, so that replaying the record bumps the leader epoch only then. Reassignments and leader elections
 * (services/api/AlterPartitionReassignments.ts, ElectLeaders.ts) write what this gives, so the controller's
 * reconciliation below finds nothing to undo.
 */
export const partitionChange = (
  topicId: string,
  p: PartitionInfo,
  replicas: ReadonlyArray<number>,
  isLive: (node: number) => boolean
): NewMetadataRecord | undefined => {
  const isr = replicas.filter(isLive)
  const leader = isr[0] ?? NO_LEADER
  const sameReplicas = sameList(replicas, p.replicas)
  const sameIsr = sameList(isr, p.isr)
  if (leader === p.leader && sameIsr && sameReplicas) return undefined
  return {
    type: "PartitionChange",
    topicId,
    partitionId: p.index,
    leader: leader === p.leader ? NO_LEADER_CHANGE : leader,
    isr: sameIsr ? null : isr,
    replicas: sameReplicas ? null : [...replicas]
  }
}

/** The PartitionChangeRecords that bring every partition's leader, ISR and replicas in line with `live`; none when they are. */
export const leadershipChanges = (image: MetadataImage, live: ReadonlyArray<number>): Array<NewMetadataRecord> => {
  if (live.length === 0) return []
  const up = new Set(live)
  const isLive = (n: number) => up.has(n)
  const out: Array<NewMetadataRecord> = []
  for (const topic of image.topics.values()) {
    for (const p of topic.partitions) {
      // No live replica: the rendezvous choice joins the replicas, and leads as the only live one.
      const replicas = p.replicas.some(isLive) ? p.replicas : [...p.replicas, rendezvous(`${topic.id}/${p.index}`, live)!]
      const change = partitionChange(topic.id, p, replicas, isLive)
      if (change !== undefined) out.push(change)
    }
  }
  return out
}
