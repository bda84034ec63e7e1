// The virtual clock (`clock: "virtual"`): the broker's timers follow a clock that moves only with `advance`,
// while the clients keep their own real time. Two kafkajs consumers share a group; the heartbeats of one are
// held forever (a fault); `advance` past its session timeout expels it and the other takes its partitions
// within seconds of real time — no 30-second wait. A consumer's Fetch waits in broker time too (its maxWaitTime),
// so the test lets broker time run, 100 ms every 10 ms, and jumps once past the session timeout.
import { Kafka, logLevel } from "kafkajs"
import { afterAll, describe, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { until } from "../support/Until.ts"

let broker: RunningBroker | undefined

afterAll(async () => {
  await broker?.close()
})

describe("a virtual clock", () => {
  test("a member whose heartbeats stop is expelled by advance past its session timeout; the other takes its partitions", async () => {
    broker = await startBroker({ clock: "virtual" })
    const b = broker
    await b.createTopic("work", { partitions: 4 })
    const consumer = (clientId: string) =>
      new Kafka({ clientId, brokers: [b.bootstrap], logLevel: logLevel.NOTHING }).consumer({
        groupId: "workers",
        sessionTimeout: 30_000,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 100
      })
    const assigned = new Map<string, Array<number>>()
    const start = async (clientId: string) => {
      const c = consumer(clientId)
      c.on(c.events.GROUP_JOIN, (e) => void assigned.set(clientId, [...(e.payload.memberAssignment["work"] ?? [])].sort()))
      await c.connect()
      await c.subscribe({ topics: ["work"] })
      await c.run({ eachMessage: async () => {} })
      return c
    }
    let ticking: Promise<void> | undefined
    let on = false
    const run = () => {
      on = true
      ticking = (async () => {
        while (on) {
          await b.advance("100 millis")
          await new Promise((r) => setTimeout(r, 10))
        }
      })()
    }
    const pause = async () => {
      on = false
      await ticking
    }
    run()
    const stuck = await start("stuck")
    await until("the first member's assignment", () => (assigned.get("stuck")?.length ?? 0) === 4)
    const alive = await start("alive")
    await until("both members assigned", () => (assigned.get("alive")?.length ?? 0) === 2 && (assigned.get("stuck")?.length ?? 0) === 2)
    try {
      // The stuck member's heartbeats never get an answer from now on. About 15 s of broker time pass, in which
      // the live member goes on heartbeating (kafkajs heartbeats between fetches).
      b.faults.delay({ api: "Heartbeat", clientId: "stuck", ms: Infinity, count: Infinity })
      const started = Date.now()
      const heartbeats = () => b.requests({ api: "Heartbeat", clientId: "alive" }).length
      const heard = heartbeats()
      await new Promise((r) => setTimeout(r, 1500))
      await until("heartbeats of the live member", () => heartbeats() > heard + 1, 10_000)
      await pause()
      // One jump past the stuck member's 30 s session timeout (not past the live one's: it was just heard from).
      await b.advance("16 seconds")
      run()
      await until("the live member owns every partition", () => (assigned.get("alive")?.length ?? 0) === 4, 15_000)
      await pause()
      expect(assigned.get("alive")).toEqual([0, 1, 2, 3])
      expect(Date.now() - started).toBeLessThan(15_000)
    } finally {
      await pause()
      // The stuck member's held heartbeat never gets an answer: its connection goes with the broker.
      run()
      await alive.disconnect()
      await pause()
      await b.close()
      broker = undefined
      void stuck.disconnect().catch(() => {})
    }
  }, 60_000)
})
