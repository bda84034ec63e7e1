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
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"

export const make = handler(TxnOffsetCommit, "0-5", (request, context) =>
  Effect.gen(function*() {
    // As Kafka: WRITE on the transactional id (else 53), READ on the group (else 30), READ on each topic (else 29).
    const check = yield* Authorization.current
    const whole = check.denied(context.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)
      ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : check.denied(context.connection, AclOperation.READ, ResourceType.GROUP, request.groupId)
      ? ErrorCode.GROUP_AUTHORIZATION_FAILED
      : 0
    if (whole !== 0) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: whole as number }))
        }))
      }
    }
    const topicDenied = (name: string) => check.denied(context.connection, AclOperation.READ, ResourceType.TOPIC, name)
    const groups = yield* GroupCoordinator
    const transactions = yield* TransactionCoordinator
    const producer = { producerId: request.producerId, producerEpoch: request.producerEpoch }
    const offsets = request.topics.filter((t) => !topicDenied(t.name)).flatMap((t) =>
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
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: topicDenied(t.name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : result[i++]!
        }))
      }))
    }
  }))
