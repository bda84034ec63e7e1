// A whole broker as Layers. `services` is everything a broker runs on (buffer pool, counters, KRaft metadata
// log, producer ids, client quotas, file log store, group and transaction coordinators) over a configuration and
// a file system; `layer` adds the TCP listener and the console's HTTP listener (when `console.listener` is set).
// Main runs it over Node's file system, the embedded broker over the in-memory one, and the unit tests use
// `services` as it is: one stack, not a copy of it.
import { type FileSystem, Layer } from "effect"
import type { BrokerConfig } from "../services/config/BrokerConfig.ts"
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
import * as TransactionCoordinator from "./txn/TransactionCoordinator.ts"

export const services = <A extends BrokerConfig | FileSystem.FileSystem, E, R>(config: Layer.Layer<A, E, R>) =>
  servicesWith(config, FileLogStore.layer)

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
    Layer.provideMerge(KRaftMetadata.layer),
    Layer.provideMerge(BufferPool.layer),
    Layer.provideMerge(BrokerMetrics.layer),
    Layer.provideMerge(config)
  )

export const layer = <A extends BrokerConfig | FileSystem.FileSystem, E, R>(config: Layer.Layer<A, E, R>) =>
  HttpConsole.layer.pipe(Layer.provideMerge(TcpListener.layer), Layer.provideMerge(services(config)))

/** `brokers` nodes in one process over the same services (layers/cluster/SimulatedCluster.ts), and the console. */
export const clusterLayer = <A extends BrokerConfig | FileSystem.FileSystem, E, R>(
  config: Layer.Layer<A, E, R>,
  brokers: number,
  ports: ReadonlyArray<number> = []
) => HttpConsole.layer.pipe(Layer.provideMerge(SimulatedCluster.layer(brokers, ports)), Layer.provideMerge(services(config)))
