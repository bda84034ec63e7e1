// InitProducerId v0-v5. A null transactional id (an idempotent producer) gets a new producer id with epoch 0;
// the producer id and epoch a v3+ request carries are then ignored (clients send -1/-1, or 0/0 as
// @platformatic/kafka does). A transactional id goes to the transaction coordinator: its producer id with the
// epoch bumped, fencing the producer that had it (an open transaction is aborted first: 51, retry), a timeout
// above `transaction.max.timeout.ms` → 50, a v3+ client resuming with an id and epoch that are not current →
// 90 (47 before v4), an empty id → 42. Exactly one of the producer id and epoch being -1 is an invalid request
// (42), as in Kafka. Producer ids are never handed out twice (services/metadata/ProducerIds.ts).
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { InitProducerId } from "../../protocol/messages/InitProducerId.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { InvalidRequest, retriable } from "../Errors.ts"
import { ProducerIds } from "../metadata/ProducerIds.ts"
import { TransactionCoordinator } from "../txn/TransactionCoordinator.ts"
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID } from "../txn/Transactions.ts"
import { handler } from "./Handler.ts"
import { Authorization } from "../auth/Authorization.ts"
import { AclOperation, CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"

type Response = ResponseOf<typeof InitProducerId>

export const make = handler(InitProducerId, "0-5", (request, context) =>
  Effect.gen(function*() {
    // As Kafka: WRITE on the transactional id (else 53); without one, IDEMPOTENT_WRITE on the cluster or WRITE
    // on some topic (else 31).
    const check = yield* Authorization.current
    const refused = !check.enabled
      ? 0
      : request.transactionalId !== null
      ? check.can(context.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)
        ? 0
        : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : check.can(context.connection, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_NAME) ||
          check.canAny(context.connection, AclOperation.WRITE, ResourceType.TOPIC)
      ? 0
      : ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    if (refused !== 0) return { throttleTimeMs: 0, errorCode: refused, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH }
    const init = Effect.gen(function*() {
      const noId = request.producerId === NO_PRODUCER_ID
      if (noId !== (request.producerEpoch === NO_PRODUCER_EPOCH)) {
        return yield* new InvalidRequest({
          detail: `producer id ${request.producerId} with epoch ${request.producerEpoch}: both or neither must be -1`
        })
      }
      if (request.transactionalId === null) return { producerId: yield* (yield* ProducerIds).next, producerEpoch: 0 }
      const expected = noId ? undefined : { producerId: request.producerId, producerEpoch: request.producerEpoch }
      return yield* (yield* TransactionCoordinator).initProducerId(request.transactionalId, request.transactionTimeoutMs, expected)
    })

    return yield* init.pipe(
      Effect.map((r): Response => ({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, ...r })),
      Effect.catch((e) => {
        // Older clients know the fencing only as INVALID_PRODUCER_EPOCH.
        const code = e.code === ErrorCode.PRODUCER_FENCED && context.apiVersion < 4 ? ErrorCode.INVALID_PRODUCER_EPOCH : e.code
        const log = retriable(e) ? Effect.logDebug : Effect.logWarning
        return Effect.as(
          log(`InitProducerId ${request.transactionalId ?? ""} refused (error ${code}): ${e.message}`),
          { throttleTimeMs: 0, errorCode: code, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH }
        )
      })
    )
  }))
