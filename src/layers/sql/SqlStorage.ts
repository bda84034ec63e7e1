// The PostgreSQL engine as the broker wires it (layers/Broker.ts, when `storage.url` is a postgresql:// URL): one
// pooled client for all SQL layers (the same Layer value, so one build shares it), the schema migrated before any
// of them starts, ClusterMetadata over metadata_log, the LogStore over log_batches, the registered brokers (which
// the coordinators serve by), and the node's listeners with that cluster in place of the lone broker's TCP
// listener.
import { Effect, Layer } from "effect"
import { SharedCoordinators } from "../../services/cluster/Coordination.ts"
import * as Migrations from "./Migrations.ts"
import * as PgClient from "./PgClient.ts"
import * as SqlCluster from "./SqlCluster.ts"
import * as SqlLogStore from "./SqlLogStore.ts"
import * as SqlMetadata from "./SqlMetadata.ts"

/** The client and, first, the migrated schema: what every SQL layer is built on. */
export const client = Layer.provideMerge(Migrations.layer, PgClient.layer)

export const metadata = SqlMetadata.layer.pipe(Layer.provide(client))

/** The partition logs in log_batches (and the producers' state beside them). */
export const logStore = SqlLogStore.layer().pipe(Layer.provide(client))

/** The registered brokers as this one sees them (one view: the same Layer value wherever it is provided). */
const membership = SqlCluster.membership.pipe(Layer.provide(client))

/** The coordinators follow the logs the other brokers write (services/cluster/Coordination.ts). */
export const coordination = Layer.effect(SharedCoordinators, Effect.map(SqlCluster.SqlMembership, (m) => m.cluster)).pipe(Layer.provide(membership))

/** Cluster and Listener: this node served, registered and heartbeating. */
export const listener = SqlCluster.layer.pipe(Layer.provide(membership), Layer.provide(client))
