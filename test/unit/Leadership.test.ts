// Leadership over stateless brokers (services/cluster/Leadership.ts), pure: the first live replica leads; with
// none live, rendezvous hashing picks a live node (stable, and moving few partitions when nodes come and go).
import { assert, describe, it } from "@effect/vitest"
import { topicRecords } from "../../src/protocol/MetadataRecords.ts"
import { coordinatorOf } from "../../src/services/cluster/Cluster.ts"
import { ownership } from "../../src/services/cluster/Coordination.ts"
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

describe("coordinator placement", () => {
  const keys = Array.from({ length: 300 }, (_, i) => `group-${i}`)

  it("spreads keys over the live nodes and moves only a leaving node's keys", () => {
    const three = keys.map((k) => coordinatorOf([1, 2, 3], k))
    for (const n of [1, 2, 3]) assert.isAbove(three.filter((c) => c === n).length, 60)
    const two = keys.map((k) => coordinatorOf([1, 3], k))
    keys.forEach((_, i) => assert.strictEqual(two[i], three[i] === 2 ? two[i] : three[i]))
    assert.deepStrictEqual(new Set(two), new Set([1, 3]))
    assert.strictEqual(coordinatorOf([7], "anything"), 7)
    assert.strictEqual(coordinatorOf([], "anything"), -1)
  })

  it("serves a key only when both the view served by and the one moved to place it here", () => {
    const own = ownership(1, [1, 2])
    const mine = keys.filter((k) => coordinatorOf([1, 2], k) === 1)
    const stays = mine.find((k) => coordinatorOf([1, 2, 3], k) === 1)!
    const leaves = mine.find((k) => coordinatorOf([1, 2, 3], k) === 3)!
    const arrives = keys.find((k) => coordinatorOf([1, 2], k) === 2 && coordinatorOf([1], k) === 1)!
    assert.isTrue(own.owns(stays) && own.owns(leaves) && !own.owns(arrives))
    assert.isFalse(own.begin([1, 2]), "the same live set is no move")

    assert.isTrue(own.begin([1, 2, 3]))
    assert.isTrue(own.owns(stays))
    assert.isFalse(own.owns(leaves))
    assert.isTrue(own.moving(leaves) && own.lost(leaves) && !own.lost(stays))
    const gained = own.commit()
    assert.isFalse(gained(stays) || gained(leaves))
    assert.isFalse(own.moving(leaves) || own.owns(leaves))

    // Node 2 going: its keys arrive here, refused while the log is read, served once committed.
    assert.isTrue(own.begin([1]))
    const arriving = keys.find((k) => coordinatorOf([1, 2, 3], k) === 2)!
    assert.isFalse(own.owns(arriving))
    assert.isTrue(own.moving(arriving))
    assert.isTrue(own.commit()(arriving))
    assert.isTrue(own.owns(arriving) && own.owns(leaves))
  })

  it("serves every key without peers", () => {
    const own = ownership(1, undefined)
    assert.isTrue(own.owns("x"))
    assert.isFalse(own.begin([2]))
    assert.isTrue(own.owns("x"))
  })
})
