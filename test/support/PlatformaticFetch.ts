// Reading a whole topic back with @platformatic/kafka's Consumer.fetch, partition by partition from offset 0 to
// the high watermark: no consumer group (its `consume` stream always joins one). The client decodes the batches,
// compressed ones included, and hands back every record with its headers in order.
import { Consumer } from "@platformatic/kafka"

const MiB = 1024 * 1024

export interface FetchedRecord {
  readonly partition: number
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** In the order they are stored; a key may repeat. */
  readonly headers: ReadonlyArray<readonly [string, string]>
}

export const fetchAll = async (
  bootstrapBrokers: ReadonlyArray<string>,
  topic: string,
  clientId = "platformatic-fetch"
): Promise<Array<FetchedRecord>> => {
  // A group id is required by the constructor; nothing here talks to a group coordinator.
  const consumer = new Consumer({ clientId, groupId: "not-used", bootstrapBrokers: [...bootstrapBrokers], retries: 5, retryDelay: 50 })
  try {
    const metadata = await consumer.metadata({ topics: [topic], forceUpdate: true })
    const described = metadata.topics.get(topic)
    if (described === undefined) throw new Error(`no metadata for ${topic}`)
    const out: Array<FetchedRecord> = []
    for (let partition = 0; partition < described.partitionsCount; partition++) {
      let next = 0n
      for (;;) {
        const response = await consumer.fetch({
          node: described.partitions[partition]!.leader,
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 8 * MiB,
          topics: [{
            topicId: described.id,
            partitions: [{
              partition,
              fetchOffset: next,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
              partitionMaxBytes: 4 * MiB
            }]
          }]
        })
        const answer = response.responses[0]?.partitions[0]
        if (response.errorCode !== 0 || answer === undefined || answer.errorCode !== 0) {
          throw new Error(`fetch ${topic}-${partition}@${next}: error ${response.errorCode}/${answer?.errorCode}`)
        }
        let progressed = false
        for (const batch of answer.records ?? []) {
          for (const record of batch.records) {
            const offset = batch.firstOffset + BigInt(record.offsetDelta)
            // A fetch starts at the batch holding `next`, so records before it may come again: skip them.
            if (offset < next) continue
            out.push({
              partition,
              offset: Number(offset),
              key: record.key,
              value: record.value,
              headers: record.headers.map(([k, v]) => [k?.toString() ?? "", v?.toString() ?? ""] as const)
            })
            next = offset + 1n
            progressed = true
          }
        }
        if (next >= answer.highWatermark) break
        if (!progressed) throw new Error(`no progress at ${topic}-${partition}@${next}`)
      }
    }
    return out
  } finally {
    await consumer.close()
  }
}
