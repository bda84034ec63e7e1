// Leadership over stateless brokers (services/cluster/Leadership.ts), pure: the first live replica leads; with
// none live, rendezvous hashing picks a live node (stable, and moving few partitions when nodes come and go).
import { assert, describe, it } from "@effect/vitest"
import { topicRecords } from "../../src/protocol/MetadataRecords.ts"
import { leadershipChanges, rendezvous } from "../../src/services/cluster/Leadership.ts"
import { replay } from "../../src/services/metadata/MetadataImage.ts"

const ID = "00000000-0000-4000-8000-000000000001"
const rotated = (p: number) => [0, 1, 2].map((i) => ((p + i) % 3) + 1)
const image = replay(topicRecords("t", ID, 6, (p) => ({ replicas: rotated(p), leader: rotated(p)[0]! })))

describe("leadership", () => {
  it("changes nothing when every preferred leader is live", () => {
    assert.deepStrictEqual(leadershipChanges(image, [1, 2, 3]), [])
    assert.deepStrictEqual(leadershipChanges(image, []), [])
  })

  it("moves a dead node's partitions to their next live replica and drops it from the ISRs", () => {
    const changes = leadershipChanges(image, [1, 3])
    const moved = replay(changes, image)
    assert.deepStrictEqual(moved.topics.get("t")!.partitions.map((p) => p.leader), [1, 3, 3, 1, 3, 3])
    assert.deepStrictEqual(moved.topics.get("t")!.partitions.map((p) => p.isr), [[1, 3], [3, 1], [3, 1], [1, 3], [3, 1], [3, 1]])
    // Applied, nothing more to do; and back to the preferred leaders when node 2 returns.
    assert.deepStrictEqual(leadershipChanges(moved, [1, 3]), [])
    const back = replay(leadershipChanges(moved, [1, 2, 3]), moved)
    assert.deepStrictEqual(back.topics.get("t")!.partitions.map((p) => p.leader), [1, 2, 3, 1, 2, 3])
  })

  it("gives a partition without a live replica to the rendezvous choice among the live nodes", () => {
    const solo = replay(topicRecords("s", ID, 40, 9))
    const live = [1, 2, 3, 4]
    const moved = replay(leadershipChanges(solo, live), solo)
    const leaders = moved.topics.get("s")!.partitions.map((p) => p.leader)
    assert.deepStrictEqual(leaders, leaders.map((_, p) => rendezvous(`${ID}/${p}`, live)))
    assert.isAbove(new Set(leaders).size, 2, "spread over the live nodes")
    assert.deepStrictEqual(moved.topics.get("s")!.partitions[0]!.replicas, [9, leaders[0]])
    // Losing node 4 moves only the partitions node 4 had.
    const without4 = leaders.map((_, p) => rendezvous(`${ID}/${p}`, [1, 2, 3]))
    leaders.forEach((l, p) => {
      if (l !== 4) assert.strictEqual(without4[p], l)
    })
  })
})
