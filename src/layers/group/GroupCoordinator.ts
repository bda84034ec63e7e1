// The live group coordinator: the pure classic-group machine (services/group/ClassicGroups.ts) run on Effect.
// Parked JoinGroup and SyncGroup requests wait on Deferreds keyed by ticket; timers are fibers keyed by what they
// time (a new timer for a key replaces the old), on Effect's Clock, so tests drive time with TestClock. JavaScript
// runs one input at a time, so each transition is atomic. Committed offsets are appended to
// `__consumer_offsets-0` through the LogStore, in Kafka's record format, before they are acknowledged, and read
// back at start. A transaction's offsets are its own transactional batches there, pending until its marker:
// at start, the markers in the log settle them as they did when written.
// Consumer groups (KIP-848) run on the pure machine of services/group/ConsumerGroups.ts beside the classic one:
// its records (Kafka's ConsumerGroup* formats) are appended before a heartbeat is answered and replayed at start;
// a group id belongs to one protocol at a time (an empty group of either kind gives way to the other).
// Over storage other brokers write too (SharedCoordinators, services/cluster/Coordination.ts) it follows the
// whole offsets log and serves the groups the live brokers place here; a group moving here answers
// COORDINATOR_LOAD_IN_PROGRESS until the log is read to its end, one moving away drops its members (they join
// its new coordinator) and keeps its offsets.
import { Clock, Deferred, Duration, Effect, FiberMap, Layer } from "effect"
import { type Marker, readMarker } from "../../protocol/ControlRecords.ts"
import {
  type ConsumerGroupRecord,
  decodeConsumerGroupRecord,
  decodeOffsetKey,
  decodeOffsetValue,
  encodeConsumerGroupRecord,
  encodeOffsetKey,
  encodeOffsetValue,
  type TopicPartitionsRecord
} from "../../protocol/GroupRecords.ts"
import { type BatchHeader, CONTROL, decodeRecords, encodeBatch, readHeader, TRANSACTIONAL } from "../../protocol/RecordBatch.ts"
import { ownership, SharedCoordinators } from "../../services/cluster/Coordination.ts"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import {
  CoordinatorLoadInProgress,
  CoordinatorNotAvailable,
  type GroupError,
  GroupSubscribedToTopic,
  InconsistentGroupProtocol,
  NonEmptyGroup,
  NotCoordinator,
  OffsetMetadataTooLarge,
  UnknownTopicOrPartition
} from "../../services/Errors.ts"
import * as Consumer from "../../services/group/ConsumerGroups.ts"
import * as Classic from "../../services/group/ClassicGroups.ts"
import * as State from "../../services/group/GroupState.ts"
import {
  type CommitError,
  GroupCoordinator,
  type JoinRequest,
  type JoinResult,
  type MemberRef,
  type Moving,
  OFFSETS_PARTITION,
  type OffsetToCommit,
  type SyncRequest,
  type SyncResult
} from "../../services/group/GroupCoordinator.ts"
import { LogStore } from "../../services/log/LogStore.ts"
import { ClusterMetadata } from "../../services/metadata/ClusterMetadata.ts"
import type { MetadataImage } from "../../services/metadata/MetadataImage.ts"
import * as CoordinatorLog from "../cluster/CoordinatorLog.ts"

/** The topics as the consumer group core sees them. */
const topicsView = (image: MetadataImage): Consumer.TopicsView => {
  const byName = new Map<string, { id: string; partitions: number }>()
  const byId = new Map<string, { name: string; partitions: number }>()
  for (const t of image.topics.values()) {
    byName.set(t.name, { id: t.id, partitions: t.partitions.length })
    byId.set(t.id, { name: t.name, partitions: t.partitions.length })
  }
  return { byName, byId }
}

const toRecordPartitions = (a: Consumer.Assignment): TopicPartitionsRecord =>
  [...a].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions] }))
const fromRecordPartitions = (tps: TopicPartitionsRecord): Consumer.Assignment =>
  new Map(tps.map((tp) => [tp.topicId, [...tp.partitions].sort((a, b) => a - b)]))

/** A consumer group record of the core in Kafka's record shape. */
export const toRecord = (r: Consumer.ConsumerRecord): ConsumerGroupRecord => {
  switch (r._tag) {
    case "GroupMetadata":
      return { type: 3, groupId: r.groupId, value: r.value === null ? null : { epoch: r.value.epoch, metadataHash: r.value.metadataHash } }
    case "MemberMetadata":
      return { type: 5, groupId: r.groupId, memberId: r.memberId, value: r.value === null ? null : { ...r.value, subscribedTopicNames: [...r.value.subscribedTopicNames] } }
    case "TargetMetadata":
      return { type: 6, groupId: r.groupId, value: r.value }
    case "TargetMember":
      return { type: 7, groupId: r.groupId, memberId: r.memberId, value: r.value === null ? null : { topicPartitions: toRecordPartitions(r.value) } }
    case "CurrentAssignment":
      return {
        type: 8,
        groupId: r.groupId,
        memberId: r.memberId,
        value: r.value === null ? null : {
          memberEpoch: r.value.memberEpoch,
          previousMemberEpoch: r.value.previousMemberEpoch,
          state: r.value.state,
          assignedPartitions: toRecordPartitions(r.value.assigned),
          partitionsPendingRevocation: toRecordPartitions(r.value.pendingRevocation)
        }
      }
  }
}

/** A record read back from the log as the core's. */
export const fromRecord = (r: ConsumerGroupRecord): Consumer.ConsumerRecord => {
  switch (r.type) {
    case 3:
      return { _tag: "GroupMetadata", groupId: r.groupId, value: r.value === null ? null : { epoch: r.value.epoch, metadataHash: r.value.metadataHash ?? 0 } }
    case 5:
      return { _tag: "MemberMetadata", groupId: r.groupId, memberId: r.memberId, value: r.value }
    case 6:
      return { _tag: "TargetMetadata", groupId: r.groupId, value: r.value }
    case 7:
      return { _tag: "TargetMember", groupId: r.groupId, memberId: r.memberId, value: r.value === null ? null : fromRecordPartitions(r.value.topicPartitions) }
    case 8:
      return {
        _tag: "CurrentAssignment",
        groupId: r.groupId,
        memberId: r.memberId,
        value: r.value === null ? null : {
          memberEpoch: r.value.memberEpoch,
          previousMemberEpoch: r.value.previousMemberEpoch,
          state: r.value.state,
          assigned: fromRecordPartitions(r.value.assignedPartitions),
          pendingRevocation: fromRecordPartitions(r.value.partitionsPendingRevocation)
        }
      }
  }
}

export const make = Effect.gen(function*() {
  const config = yield* BrokerConfig
  const metadata = yield* ClusterMetadata
  const store = yield* LogStore
  const state = State.make(
    {
      initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
      minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
      maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs
    },
    (prefix) => `${prefix}-${crypto.randomUUID()}`
  )
  const consumer = Consumer.make(
    {
      sessionTimeoutMs: config.groupConsumerSessionTimeoutMs,
      heartbeatIntervalMs: config.groupConsumerHeartbeatIntervalMs,
      maxSize: config.groupConsumerMaxSize,
      assignors: config.groupConsumerAssignors
    },
    () => crypto.randomUUID()
  )
  /** Runs an effect under a key, interrupting what ran under it before: one timer per key. */
  const timers = yield* FiberMap.makeRuntime<never, string>()
  // Log lines of transitions go through the broker's logger, not the default one.
  const runFork = Effect.runForkWith(yield* Effect.context<never>())
  const parked = new Map<State.Ticket, Deferred.Deferred<unknown, GroupError>>()
  let tickets = 0
  const log = CoordinatorLog.make(store, OFFSETS_PARTITION, (header, batch) => replay(header, batch))
  const peers = yield* Effect.serviceOption(SharedCoordinators)
  const own = ownership(config.nodeId, peers._tag === "Some" ? peers.value.live() : undefined)
  /** Fails the request unless this broker serves the group now. */
  const serving = (groupId: string): Effect.Effect<void, Moving> =>
    own.owns(groupId)
      ? Effect.void
      : Effect.fail(own.moving(groupId) ? new CoordinatorLoadInProgress({ key: groupId }) : new NotCoordinator({ key: groupId }))

  /** Does what the machine said. */
  const perform = (commands: ReadonlyArray<State.Command>): void => {
    for (const c of commands) {
      switch (c._tag) {
        case "Answer": {
          const d = parked.get(c.ticket)
          parked.delete(c.ticket)
          if (d === undefined) break
          if (c.answer._tag === "Failed") Deferred.doneUnsafe(d, Effect.fail(c.answer.error))
          else Deferred.doneUnsafe(d, Effect.succeed(c.answer.result))
          break
        }
        case "Start": {
          const timer = c.timer
          // A group handed to another coordinator meanwhile is not timed here any more.
          void timers(c.key, Effect.andThen(Effect.sleep(Duration.millis(c.delayMs)), Effect.sync(() => {
            if (own.owns(timer.group.id)) perform(Classic.fire(state, timer))
          })))
          break
        }
        case "Stop":
          void timers(c.key, Effect.void)
          break
        case "Log":
          void runFork(Effect.logInfo(c.message))
          break
      }
    }
  }

  /** Does what the consumer group machine said; answers the records it asked to write. */
  const performConsumer = (commands: ReadonlyArray<Consumer.Command>): Array<Consumer.ConsumerRecord> => {
    const records: Array<Consumer.ConsumerRecord> = []
    for (const c of commands) {
      switch (c._tag) {
        case "Start": {
          const timer = c.timer
          void timers(
            c.key,
            Effect.andThen(
              Effect.sleep(Duration.millis(c.delayMs)),
              Effect.flatMap(metadata.image, (image) =>
                own.owns(timer.groupId) ? writeConsumer(performConsumer(Consumer.fire(consumer, timer, topicsView(image)))) : Effect.void)
            )
          )
          break
        }
        case "Stop":
          void timers(c.key, Effect.void)
          break
        case "Log":
          void runFork(Effect.logInfo(c.message))
          break
        case "Write":
          records.push(c.record)
          break
      }
    }
    return records
  }

  /** Appends consumer group records to the offsets log, as one batch. */
  const writeConsumer = (records: ReadonlyArray<Consumer.ConsumerRecord>) =>
    appendOffsets(records.map((r) => encodeConsumerGroupRecord(toRecord(r)))).pipe(
      Effect.catchTag("InvalidProducerEpoch", (e) => Effect.die(e)),
      Effect.asVoid
    )

  /** Whether a classic group of this id has members (a consumer group cannot take the id then). */
  const classicCheck: Consumer.ClassicCheck = (groupId) => {
    const g = state.groups.get(groupId)
    if (g === undefined || g.state === "Dead") return "none"
    return g.members.size > 0 || g.pendingJoin.size > 0 ? "busy" : "empty"
  }

  const consumerHeartbeat = (request: Consumer.HeartbeatRequest) =>
    Effect.gen(function*() {
      yield* serving(request.groupId)
      const image = yield* metadata.image
      const { result, commands } = Consumer.heartbeat(consumer, request, topicsView(image), classicCheck)
      yield* writeConsumer(performConsumer(commands))
      if ("_tag" in result) return yield* Effect.fail(result)
      return result
    })

  /** A classic JoinGroup for the id of a consumer group: refused while it has members; an empty one gives way. */
  const beforeClassicJoin = (groupId: string) =>
    Effect.gen(function*() {
      const group = consumer.groups.get(groupId)
      if (group === undefined) return
      if (group.members.size > 0) return yield* Effect.fail(new InconsistentGroupProtocol({ detail: `${groupId} is a consumer group` }))
      yield* writeConsumer(performConsumer(Consumer.deleteGroup(consumer, group))).pipe(
        Effect.catchTag(["StorageError", "UnknownTopicOrPartition"], (e) => Effect.fail(new CoordinatorNotAvailable({ detail: e.message })))
      )
    })

  /** Runs an input that answers under a ticket, and waits for the answer (now, or when the machine gives it). */
  const ask = <A>(input: (ticket: State.Ticket) => ReadonlyArray<State.Command>) =>
    Effect.suspend(() => {
      const ticket = ++tickets
      const d = Deferred.makeUnsafe<unknown, GroupError>()
      parked.set(ticket, d)
      perform(input(ticket))
      return Deferred.await(d) as Effect.Effect<A, GroupError>
    })

  const outcome = <A>(o: Classic.Outcome<A>): A => {
    perform(o.commands)
    return o.result
  }

  const join = (request: JoinRequest) =>
    serving(request.groupId).pipe(
      Effect.andThen(beforeClassicJoin(request.groupId)),
      Effect.andThen(ask<JoinResult>((ticket) => Classic.join(state, request, ticket)))
    )
  const sync = (request: SyncRequest) =>
    Effect.andThen(serving(request.groupId), ask<SyncResult>((ticket) => Classic.sync(state, request, ticket)))

  const heartbeat = (groupId: string, generationId: number, member: MemberRef) =>
    Effect.suspend(() => {
      if (!own.owns(groupId)) return serving(groupId)
      const error = outcome(Classic.heartbeat(state, groupId, generationId, member))
      return error === undefined ? Effect.void : Effect.fail(error)
    })

  const leave = (groupId: string, members: ReadonlyArray<MemberRef>) =>
    Effect.suspend(() => {
      if (!own.owns(groupId)) return Effect.andThen(serving(groupId), Effect.succeed([]))
      const result = outcome(Classic.leave(state, groupId, members))
      return result.error === undefined ? Effect.succeed(result.members) : Effect.fail(result.error)
    })

  /**
   * Appends offset records (null values: tombstones) to the offsets log, as one batch (a transaction's when
   * `producer` is given); answers the offset of the first record.
   */
  const appendOffsets = (
    records: ReadonlyArray<{ key: Uint8Array; value: Uint8Array | null }>,
    producer?: { readonly producerId: number; readonly producerEpoch: number }
  ) =>
    Effect.gen(function*() {
      if (records.length === 0) return -1
      const batch = encodeBatch(records.map((r) => ({ key: r.key, value: r.value })), {
        timestamp: yield* Clock.currentTimeMillis,
        ...(producer === undefined ? {} : { ...producer, attributes: TRANSACTIONAL, baseSequence: -1 })
      })
      const result = yield* store.append(OFFSETS_PARTITION, batch, readHeader(batch)).pipe(
        // Batches without sequences are checked for their epoch only: a sequence error cannot happen, nor a
        // transaction error (the producer writes nothing else here).
        Effect.catchTag(["OutOfOrderSequence", "InvalidTxnState"], (e) => Effect.die(e))
      )
      log.wrote(result.baseOffset)
      return result.baseOffset
    })

  /** The offsets of a commit the coordinator can take, each with why not otherwise. */
  const screen = (offsets: ReadonlyArray<OffsetToCommit>) =>
    Effect.gen(function*() {
      const image = yield* metadata.image
      const now = yield* Clock.currentTimeMillis
      const errors = offsets.map((o): CommitError | undefined =>
        image.topics.get(o.topic)?.partitions[o.partition] === undefined
          ? new UnknownTopicOrPartition({ topic: o.topic, partition: o.partition })
          : (o.metadata?.length ?? 0) > config.offsetMetadataMaxBytes
          ? new OffsetMetadataTooLarge({})
          : undefined
      )
      const accepted = offsets.filter((_, i) => errors[i] === undefined).map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata: o.metadata ?? "",
        commitTimestamp: now
      }))
      return { errors, accepted }
    })

  const records = (groupId: string, accepted: ReadonlyArray<Omit<State.StoredOffset, "recordOffset">>) =>
    accepted.map((o) => ({ key: encodeOffsetKey({ group: groupId, topic: o.topic, partition: o.partition }), value: encodeOffsetValue(o) }))

  const commit = (groupId: string, generationId: number, member: MemberRef, offsets: ReadonlyArray<OffsetToCommit>) =>
    Effect.gen(function*() {
      yield* serving(groupId)
      const cg = consumer.groups.get(groupId)
      let group: State.Group
      if (cg !== undefined) {
        // A consumer group's member commits with its member epoch.
        const invalid = Consumer.validateCommit(cg, member.memberId, generationId)
        if (invalid !== undefined) return yield* Effect.fail(invalid)
        group = state.groups.get(groupId) ?? State.newGroup(groupId)
        state.groups.set(groupId, group)
      } else {
        const admitted = outcome(Classic.admitCommit(state, groupId, generationId, member))
        if ("_tag" in admitted) return yield* Effect.fail(admitted)
        group = admitted
      }
      const { errors, accepted } = yield* screen(offsets)
      const first = yield* appendOffsets(records(groupId, accepted)).pipe(
        Effect.catchTag("InvalidProducerEpoch", (e) => Effect.die(e))
      )
      accepted.forEach((o, i) => group.offsets.set(State.offsetKey(o.topic, o.partition), { ...o, recordOffset: first + i }))
      return errors
    })

  const commitTransactional = (
    groupId: string,
    generationId: number,
    member: MemberRef,
    producer: { readonly producerId: number; readonly producerEpoch: number },
    offsets: ReadonlyArray<OffsetToCommit>
  ) =>
    Effect.gen(function*() {
      yield* serving(groupId)
      const cg = consumer.groups.get(groupId)
      if (cg !== undefined) {
        // A consumer group's member commits with its member epoch; a producer outside the group with -1.
        const invalid = generationId < 0 && member.memberId === "" ? undefined : Consumer.validateCommit(cg, member.memberId, generationId)
        if (invalid !== undefined) return yield* Effect.fail(invalid)
      } else {
        const admitted = State.admitTxnCommit(state, groupId, generationId, member)
        if ("_tag" in admitted) return yield* Effect.fail(admitted)
      }
      const { errors, accepted } = yield* screen(offsets)
      const first = yield* appendOffsets(records(groupId, accepted), producer)
      State.addPendingOffsets(state, producer.producerId, groupId, accepted.map((o, i) => ({ ...o, recordOffset: first + i })))
      return errors
    })

  const completeTransaction = (marker: Marker) =>
    Effect.gen(function*() {
      yield* store.writeMarker(OFFSETS_PARTITION, marker)
      const n = State.completePendingOffsets(state, marker.producerId, marker.commit)
      if (n > 0) yield* Effect.logDebug(`group coordinator: ${n} offsets of producer ${marker.producerId} committed`)
    })

  const deleteGroup = (groupId: string) =>
    Effect.gen(function*() {
      yield* serving(groupId)
      const cg = consumer.groups.get(groupId)
      if (cg !== undefined) {
        if (cg.members.size > 0) return yield* Effect.fail(new NonEmptyGroup({}))
        yield* writeConsumer(performConsumer(Consumer.deleteGroup(consumer, cg)))
        if (!state.groups.has(groupId)) {
          yield* Effect.logInfo(`group ${groupId} deleted`)
          return
        }
      }
      const group = State.deletable(state, groupId)
      if ("_tag" in group) return yield* Effect.fail(group)
      const tombstoned = [...group.offsets.values()]
      const first = yield* writeTombstones(groupId, tombstoned)
      // As the tombstones replay at start: offsets open transactions committed for those partitions go too.
      tombstoned.forEach((o, i) => State.dropOffset(state, groupId, o.topic, o.partition, first + i))
      State.deleted(state, group)
      yield* Effect.logInfo(`group ${groupId} deleted`)
    })

  const writeTombstones = (groupId: string, partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>) =>
    appendOffsets(partitions.map((o) => ({
      key: encodeOffsetKey({ group: groupId, topic: o.topic, partition: o.partition }),
      value: null
    }))).pipe(Effect.catchTag("InvalidProducerEpoch", (e) => Effect.die(e)))

  /** OffsetDelete: the partitions' offsets go unless the group's members consume them. */
  const deleteOffsets = (groupId: string, partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>) =>
    Effect.gen(function*() {
      yield* serving(groupId)
      const checked = State.offsetDeletion(state, groupId, partitions)
      if ("_tag" in checked) return yield* Effect.fail(checked)
      const { group } = checked
      // A consumer group's members keep the offsets of the topics they subscribe to.
      const cg = consumer.groups.get(groupId)
      const subscribed = new Set<string>()
      if (cg !== undefined) {
        const view = topicsView(yield* metadata.image)
        for (const m of cg.members.values()) for (const t of Consumer.subscribedTopics(m, view)) subscribed.add(t)
      }
      const refused = checked.refused.map((r, i) =>
        r ?? (subscribed.has(partitions[i]!.topic) ? new GroupSubscribedToTopic({ topic: partitions[i]!.topic }) : undefined)
      )
      // A tombstone where there is an offset to delete, committed or pending in a transaction (as Kafka).
      const doomed = partitions.filter((p, i) => refused[i] === undefined && State.hasOffset(state, group, p.topic, p.partition))
      const first = yield* writeTombstones(groupId, doomed)
      doomed.forEach((p, i) => State.dropOffset(state, groupId, p.topic, p.partition, first + i))
      // An empty group left without offsets stays until a restart (which keeps only groups with offsets), as
      // Kafka's coordinator keeps it until its periodic cleanup: a retried request finds it still.
      if (doomed.length > 0) {
        yield* Effect.logInfo(`group ${groupId}: deleted the offsets of ${doomed.map((p) => `${p.topic}-${p.partition}`).join(", ")}`)
      }
      return refused
    })

  // The offsets log replayed: all of it at start; then, following it, what the other brokers append. Markers
  // settle a transaction's offsets whoever wrote them.
  let replayed = 0
  const replay = (header: BatchHeader, batch: Uint8Array) => {
    if ((header.attributes & CONTROL) !== 0) {
      const marker = readMarker(batch)
      if (marker !== undefined) State.completePendingOffsets(state, marker.producerId, marker.commit)
      return
    }
    const pending = (header.attributes & TRANSACTIONAL) !== 0 ? header.producerId : undefined
    for (const record of decodeRecords(batch)) {
      const key = record.key === null ? undefined : decodeOffsetKey(record.key)
      if (key === undefined) {
        const cg = record.key === null ? undefined : decodeConsumerGroupRecord(record.key, record.value)
        if (cg !== undefined) {
          Consumer.replay(consumer, fromRecord(cg))
          replayed++
        }
        continue
      }
      replayed++
      const value = record.value === null ? null : decodeOffsetValue(record.value)
      if (pending !== undefined && value !== null) {
        State.addPendingOffsets(state, pending, key.group, [{ topic: key.topic, partition: key.partition, ...value, recordOffset: record.offset }])
      } else {
        State.replayOffset(state, key.group, key.topic, key.partition, value, record.offset)
      }
    }
  }
  yield* log.catchUp
  State.replayed(state)
  performConsumer(Consumer.sessionsAfterLoad(consumer, own.owns))
  if (consumer.groups.size > 0) yield* Effect.logInfo(`group coordinator: ${consumer.groups.size} consumer groups`)
  yield* Effect.logInfo(`group coordinator: ${state.groups.size} groups with committed offsets (${replayed} offset records)`)

  if (peers._tag === "Some") {
    yield* Effect.forkScoped(log.follow({
      cluster: peers.value,
      ownership: own,
      // Groups leaving: parked joins and syncs answered NOT_COORDINATOR (their members find the new coordinator).
      lose: (lost) =>
        Effect.sync(() => {
          const ids = [...state.groups.keys()].filter(lost)
          for (const id of ids) {
            for (const ticket of State.unload(state, id)) {
              perform([{ _tag: "Answer", ticket, answer: { _tag: "Failed", error: new NotCoordinator({ key: id }) } }])
            }
          }
          return ids.length
        }).pipe(Effect.tap((n) => n > 0 ? Effect.logInfo(`group coordinator: ${n} groups moved to other brokers`) : Effect.void)),
      // Groups arriving: their consumer group members' sessions start (classic members join again).
      gain: (gained) =>
        Effect.sync(() => {
          performConsumer(Consumer.sessionsAfterLoad(consumer, gained))
          return [...state.groups.keys(), ...consumer.groups.keys()].filter(gained).length
        }).pipe(Effect.tap((n) => n > 0 ? Effect.logInfo(`group coordinator: took over ${n} groups`) : Effect.void))
    }))
  }

  return GroupCoordinator.of({
    join,
    sync,
    heartbeat,
    leave,
    commit,
    commitTransactional,
    completeTransaction,
    committed: (groupId, partitions) => Effect.sync(() => State.committed(state, groupId, partitions)),
    consumerHeartbeat,
    consumerDescribe: (groupId) =>
      Effect.sync(() => {
        const group = consumer.groups.get(groupId)
        return group === undefined ? undefined : Consumer.describe(consumer, group)
      }),
    checkFetch: (groupId, memberId, memberEpoch) =>
      Effect.suspend(() => {
        const group = consumer.groups.get(groupId)
        const invalid = group === undefined ? undefined : Consumer.validateFetch(group, memberId, memberEpoch)
        return invalid === undefined ? Effect.void : Effect.fail(invalid)
      }),
    list: Effect.sync(() => [
      ...State.list(state).filter((g) => !consumer.groups.has(g.groupId)),
      ...[...consumer.groups.values()].map((g) => ({
        groupId: g.id,
        protocolType: "consumer",
        state: Consumer.groupState(g),
        groupType: "consumer" as const
      }))
    ]),
    describe: (groupId) =>
      Effect.sync(() => {
        const group = consumer.groups.get(groupId)
        if (group === undefined) return State.describe(state, groupId)
        const d = Consumer.describe(consumer, group)
        return {
          groupId,
          state: d.state,
          protocolType: "consumer",
          protocolName: d.assignorName,
          members: d.members.map(({ member }) => ({
            memberId: member.memberId,
            groupInstanceId: member.instanceId,
            clientId: member.clientId,
            clientHost: member.clientHost,
            metadata: new Uint8Array(0),
            assignment: new Uint8Array(0)
          }))
        }
      }),
    delete: deleteGroup,
    deleteOffsets
  })
})

export const layer = Layer.effect(GroupCoordinator, make)
