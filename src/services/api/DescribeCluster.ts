// DescribeCluster v0-v1. The cluster is this node: it is the only broker and the controller, at the address
// Metadata gives (`advertised.listeners`, else the listener, a wildcard host answered with the address the
// client connected to). v1 may ask for endpoint type 2 (controllers): like a Kafka broker, this answers
// MISMATCHED_ENDPOINT_TYPE (114), and an endpoint type Kafka does not know UNSUPPORTED_ENDPOINT_TYPE (115);
// v0 cannot name a type. Cluster authorized operations, when asked: those the principal's ACLs allow.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeCluster } from "../../protocol/messages/DescribeCluster.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { Authorization, authorizedOperations } from "../auth/Authorization.ts"
import { CLUSTER_NAME, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"
import { OPERATIONS_NOT_REQUESTED } from "./lookup.ts"
import { Cluster, controllerOf } from "../cluster/Cluster.ts"

type Response = ResponseOf<typeof DescribeCluster>

/** Endpoint types of DescribeCluster v1. */
const EndpointType = { Brokers: 1, Controllers: 2 } as const

// Kafka's codes (clients/.../protocol/Errors.java), kept here until another API needs them.
/** The request was sent to an endpoint of the wrong type (controllers asked of a broker). */
const MISMATCHED_ENDPOINT_TYPE = 114
/** An endpoint type Kafka does not know. */
const UNSUPPORTED_ENDPOINT_TYPE = 115

export const make = handler(DescribeCluster, "0-1", (request, context) =>
  Effect.gen(function*() {
    const metadata = yield* ClusterMetadata

    if (request.endpointType !== EndpointType.Brokers) {
      const known = request.endpointType === EndpointType.Controllers
      // Kafka answers v0 with INVALID_REQUEST; v0 always asks for brokers, so only v1 gets here.
      const errorCode = context.apiVersion === 0
        ? ErrorCode.INVALID_REQUEST
        : known
        ? MISMATCHED_ENDPOINT_TYPE
        : UNSUPPORTED_ENDPOINT_TYPE
      return {
        throttleTimeMs: 0,
        errorCode,
        errorMessage: known
          ? "this is a broker endpoint: controllers are not described here"
          : `unsupported endpoint type ${request.endpointType}`,
        endpointType: EndpointType.Brokers,
        clusterId: "",
        controllerId: -1,
        brokers: [],
        clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED
      } satisfies Response
    }

    const cluster = yield* Cluster.current
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: EndpointType.Brokers,
      clusterId: metadata.clusterId,
      controllerId: controllerOf(cluster),
      brokers: cluster.live().flatMap((brokerId) => {
        const e = cluster.endpoint(brokerId, context.connection)
        return e === undefined ? [] : [{ brokerId, host: e.host, port: e.port, rack: null }]
      }),
      clusterAuthorizedOperations: authorizedOperations(
        yield* Authorization.current,
        context.connection,
        request.includeClusterAuthorizedOperations,
        ResourceType.CLUSTER,
        CLUSTER_NAME
      )
    } satisfies Response
  }))
