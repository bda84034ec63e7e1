// Requests Kafka sends to a coordinator: the group's (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
// OffsetFetch up to v7, OffsetDelete, TxnOffsetCommit, ConsumerGroupHeartbeat) or the transactional id's
// (InitProducerId with one, AddPartitionsToTxn up to v3, AddOffsetsToTxn, EndTxn). In a cluster of several nodes,
// one that reaches another node answers NOT_COORDINATOR (16) where Kafka puts it, so the client asks
// FindCoordinator again. Requests naming several groups are answered by any node (the state is shared).
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import type { Api } from "../../protocol/Message.ts"
import type { NoResponse } from "../api/Handler.ts"
import { describe, planError } from "../testing/Faults.ts"
import { type ClusterShape, coordinatorFor } from "./Cluster.ts"

const GROUP_KEYED = new Set(["JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup", "OffsetCommit", "OffsetDelete", "TxnOffsetCommit", "ConsumerGroupHeartbeat"])
const TXN_KEYED = new Set(["AddOffsetsToTxn", "EndTxn"])

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined)

/** The group id or transactional id whose coordinator must serve the request; undefined: any node may. */
export const coordinatorKey = (api: string, version: number, request: unknown): string | undefined => {
  const r = request as Record<string, unknown>
  if (GROUP_KEYED.has(api)) return str(r.groupId)
  if (api === "OffsetFetch" && version <= 7) return str(r.groupId)
  if (TXN_KEYED.has(api)) return str(r.transactionalId)
  if (api === "InitProducerId") return str(r.transactionalId)
  if (api === "AddPartitionsToTxn" && version <= 3) return str(r.v3AndBelowTransactionalId)
  return undefined
}

/** The NOT_COORDINATOR answer when the request reached a node that does not coordinate its key, else undefined. */
export const misrouted = <Req, Res>(
  cluster: ClusterShape,
  node: number,
  api: Api<Req, Res>,
  version: number,
  request: Req,
  clientId: string | null
): Res | NoResponse | undefined => {
  if (cluster.nodeIds.length === 1) return undefined
  const key = coordinatorKey(api.name, version, request)
  if (key === undefined || coordinatorFor(cluster, key) === node) return undefined
  const plan = planError(api, version, request, describe(api.name, version, request, { brokerId: node, clientId }), {}, ErrorCode.NOT_COORDINATOR)
  return plan._tag === "Answer" ? plan.response : undefined
}
