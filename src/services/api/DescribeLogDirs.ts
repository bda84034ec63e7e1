// DescribeLogDirs v1-v4: the broker's one log dir (`log.dirs`) by its absolute path, with every partition it
// holds (null topics: all of them, else those named that exist; names it does not hold are left out, as
// Kafka does): each partition's size is the bytes of its segment files, its offset lag 0 (this node is the
// only replica: its log end is the high watermark), never a future log. The broker's own logs
// (`__consumer_offsets`, `__transaction_state`) count once they exist, as Kafka's do. v4 adds the volume's
// total and usable bytes (-1 when the file system cannot tell). A log that cannot be read fails the dir with
// KAFKA_STORAGE_ERROR (56) and no topics, as Kafka answers for an offline log dir.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeLogDirs } from "../../protocol/messages/DescribeLogDirs.ts"
import { LogStore, type TopicPartition } from "../log/LogStore.ts"
import { INTERNAL_LOGS } from "../log/Partition.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(DescribeLogDirs, "1-4", (request, context) =>
  Effect.gen(function*() {
    // DESCRIBE on the cluster, else 31 (v3+ at the top; before, no log dirs at all), as Kafka.
    if ((yield* Authorization.current).denied(context.connection, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] }
    }
    const store = yield* LogStore
    const image = yield* (yield* ClusterMetadata).image
    const dir = yield* store.describeLogDir

    /** The partition's size; undefined when it is gone (deleted since the image was read). */
    const sizeOf = (tp: TopicPartition) =>
      store.partitionSize(tp).pipe(Effect.catchTag("UnknownTopicOrPartition", () => Effect.succeed(undefined)))

    /** The partitions of the topic this broker holds logs for, in partition order, with their sizes. */
    const held = (topic: string, named: ReadonlySet<number> | undefined) =>
      Effect.gen(function*() {
        const t = image.topics.get(topic)
        // The broker's own logs are there once something was written to them.
        const candidates = (t !== undefined ? t.partitions.map((p) => p.index) : INTERNAL_LOGS.filter((tp) => tp.topic === topic).map((tp) => tp.partition))
          .filter((p) => named === undefined || named.has(p))
        const sizes = yield* Effect.forEach(candidates, (partition) => sizeOf({ topic, partition }))
        return candidates
          .map((partition, i) => ({ partition, size: sizes[i] }))
          .filter((p): p is { partition: number; size: number } => p.size !== undefined && (t !== undefined || p.size > 0))
      })

    const described = yield* Effect.gen(function*() {
      const wanted: Array<{ readonly topic: string; readonly named: ReadonlySet<number> | undefined }> = []
      if (request.topics === null) {
        for (const topic of new Set([...image.topics.keys(), ...INTERNAL_LOGS.map((tp) => tp.topic)])) wanted.push({ topic, named: undefined })
      } else {
        // A topic named twice is one topic, as Kafka's set of partitions makes it.
        const byTopic = new Map<string, Set<number>>()
        for (const t of request.topics) {
          const set = byTopic.get(t.topic) ?? new Set()
          for (const p of t.partitions) set.add(p)
          byTopic.set(t.topic, set)
        }
        for (const [topic, named] of byTopic) wanted.push({ topic, named })
      }
      const topics = []
      for (const w of wanted) {
        const partitions = yield* held(w.topic, w.named)
        if (partitions.length === 0) continue
        topics.push({
          name: w.topic,
          partitions: partitions.map((p) => ({ partitionIndex: p.partition, partitionSize: p.size, offsetLag: 0, isFutureKey: false }))
        })
      }
      return topics
    }).pipe(Effect.result)

    const result = described._tag === "Success"
      ? { errorCode: ErrorCode.NONE as number, logDir: dir.path, topics: described.success, totalBytes: dir.totalBytes, usableBytes: dir.usableBytes }
      : { errorCode: ErrorCode.KAFKA_STORAGE_ERROR as number, logDir: dir.path, topics: [], totalBytes: -1, usableBytes: -1 }
    if (described._tag === "Failure") yield* Effect.logWarning(`unable to describe log dir ${dir.path}: ${described.failure.message}`)
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results: [result] }
  }))
