// TxnOffsetCommit v0-v5: offsets committed inside the producer's transaction, to the group's offsets log; they
// count for OffsetFetch once the transaction commits and go when it aborts. The group's offsets partition must
// be in the transaction (AddOffsetsToTxn), with the producer's current id and epoch: else 48, 49, or 47 for a
// fenced producer. The group checks as Kafka's: an unknown group is created for a commit without generation
// (-1), a member must be current (25, 22, 82). Unknown topic or partition → 3 for that partition; metadata over
// `offset.metadata.max.bytes` → 12.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { TxnOffsetCommit } from "../../protocol/messages/TxnOffsetCommit.ts"
import { GroupCoordinator, OFFSETS_PARTITION } from "../group/GroupCoordinator.ts"
import { TransactionCoordinator } from "../txn/TransactionCoordinator.ts"
import { handler } from "./Handler.ts"

export const make = handler(TxnOffsetCommit, "0-5", (request) =>
  Effect.gen(function*() {
    const groups = yield* GroupCoordinator
    const transactions = yield* TransactionCoordinator
    const producer = { producerId: request.producerId, producerEpoch: request.producerEpoch }
    const offsets = request.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: p.committedLeaderEpoch,
        metadata: p.committedMetadata
      }))
    )
    const result = yield* transactions.verify(request.transactionalId, producer, OFFSETS_PARTITION).pipe(
      Effect.andThen(groups.commitTransactional(
        request.groupId,
        request.generationId,
        { memberId: request.memberId, groupInstanceId: request.groupInstanceId },
        producer,
        offsets
      )),
      Effect.map((errors) => errors.map((e) => e?.code ?? ErrorCode.NONE)),
      // The transaction's or the group's own error (or a failing offsets log) is every partition's.
      Effect.catch((e) => {
        const code = e._tag === "ProducerFenced" ? ErrorCode.INVALID_PRODUCER_EPOCH : e.code
        const failAll = Effect.succeed(offsets.map(() => code as number))
        return Effect.andThen(
          (e._tag === "StorageError" ? Effect.logError : Effect.logWarning)(`TxnOffsetCommit ${request.transactionalId} for group ${request.groupId}: ${e.message}`),
          failAll
        )
      })
    )
    let i = 0
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: result[i++]! }))
      }))
    }
  }))
