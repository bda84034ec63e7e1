// A whole broker as Layers. `services` is everything a broker runs on (buffer pool, counters, KRaft metadata
// log, producer ids, client quotas, file log store, group and transaction coordinators) over a configuration and
// a file system; `layer` adds the TCP listener and the console's HTTP listener (when `console.listener` is set).
// Main runs it over Node's file system, the embedded broker over the in-memory one, and the unit tests use
// `services` as it is: one stack, not a copy of it. With `storage.url` a postgresql:// URL, the metadata, the
// partition logs and the listener are PostgreSQL's (layers/sql/SqlStorage.ts): the broker is one of the cluster
// registered there.
import { Effect, type FileSystem, Layer } from "effect"
import { BrokerConfig, type BrokerConfigShape } from "../services/config/BrokerConfig.ts"
import { ScramCredentials } from "../services/security/ScramCredentials.ts"
import { Authorization } from "../services/auth/Authorization.ts"
import { BufferPool } from "../services/network/BufferPool.ts"
import { BrokerMetrics } from "../services/metrics/BrokerStats.ts"
import type { LogStore } from "../services/log/LogStore.ts"
import * as HttpConsole from "./console/HttpConsole.ts"
import * as GroupCoordinator from "./group/GroupCoordinator.ts"
import * as FileLogStore from "./log/FileLogStore.ts"
import * as KRaftMetadata from "./metadata/KRaftMetadata.ts"
import * as ProducerIds from "./metadata/ProducerIds.ts"
import * as ClientQuotas from "./quota/ClientQuotas.ts"
import * as TcpListener from "./network/TcpListener.ts"
import * as SimulatedCluster from "./cluster/SimulatedCluster.ts"
import * as NodeHashing from "./security/NodeHashing.ts"
import * as SqlStorage from "./sql/SqlStorage.ts"
import * as TransactionCoordinator from "./txn/TransactionCoordinator.ts"

/** Which engine `storage.url` names: files under log.dirs when it is absent, else PostgreSQL. */
const byStorage = <F extends Layer.Any, P extends Layer.Any>(
  files: F,
  postgres: P
): Layer.Layer<Layer.Success<F>, Layer.Error<F> | Layer.Error<P>, Layer.Services<F> | Layer.Services<P> | BrokerConfig> => {
  // Both provide F's services (P may provide more: the cluster beside the listener).
  type Chosen = Layer.Layer<Layer.Success<F>, Layer.Error<F> | Layer.Error<P>, Layer.Services<F> | Layer.Services<P>>
  return Layer.unwrap(Effect.map(BrokerConfig, (c: BrokerConfigShape) => (c.storageUrl === undefined ? files : postgres) as unknown as Chosen))
}

const metadata = byStorage(KRaftMetadata.layer, SqlStorage.metadata)

/** The TCP listener; over PostgreSQL, also the cluster of registered brokers (in the connections' context). */
const listener = byStorage(TcpListener.layer, SqlStorage.listener)

/** Over PostgreSQL, the other brokers whose coordinator logs the coordinators follow; alone, none. */
const coordination = byStorage(Layer.empty, SqlStorage.coordination)

/** The partition logs: files under log.dirs, or PostgreSQL's log_batches. */
const logStore = byStorage(FileLogStore.layer, SqlStorage.logStore)

export const services = <A extends BrokerConfig | FileSystem.FileSystem, E, R>(config: Layer.Layer<A, E, R>) =>
  servicesWith(config, logStore)

/** `services` with another LogStore (e.g. layers/sql/SqlLogStore.ts), whose needs `config` adds to. */
export const servicesWith = <A, E, R, E2, R2>(config: Layer.Layer<A, E, R>, logStore: Layer.Layer<LogStore, E2, R2>) =>
  TransactionCoordinator.layer.pipe(
    Layer.provideMerge(Authorization.layer),
    Layer.provideMerge(GroupCoordinator.layer),
    Layer.provideMerge(logStore),
    Layer.provideMerge(ProducerIds.layer),
    Layer.provideMerge(ClientQuotas.layer),
    Layer.provideMerge(ScramCredentials.layer),
    Layer.provideMerge(NodeHashing.layer),
    Layer.provideMerge(coordination),
    Layer.provideMerge(metadata),
    Layer.provideMerge(BufferPool.layer),
    Layer.provideMerge(BrokerMetrics.layer),
    Layer.provideMerge(config)
  )

export const layer = <A extends BrokerConfig | FileSystem.FileSystem, E, R>(config: Layer.Layer<A, E, R>) =>
  HttpConsole.layer.pipe(Layer.provideMerge(listener), Layer.provideMerge(services(config)))

/** `brokers` nodes in one process over the same services (layers/cluster/SimulatedCluster.ts), and the console. */
export const clusterLayer = <A extends BrokerConfig | FileSystem.FileSystem, E, R>(
  config: Layer.Layer<A, E, R>,
  brokers: number,
  ports: ReadonlyArray<number> = []
) => HttpConsole.layer.pipe(Layer.provideMerge(SimulatedCluster.layer(brokers, ports)), Layer.provideMerge(services(config)))
