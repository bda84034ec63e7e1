// A whole broker as one Layer: the TCP listener over the log store and the cluster metadata, for a given
// configuration and file system. Main runs it over Node's file system; tests run it over the in-memory one.
import { type FileSystem, Layer } from "effect"
import type { BrokerConfig } from "../services/config/BrokerConfig.ts"
import * as GroupCoordinator from "../services/group/GroupCoordinator.ts"
import * as FileLogStore from "./log/FileLogStore.ts"
import * as KRaftMetadata from "./metadata/KRaftMetadata.ts"
import * as TcpListener from "./network/TcpListener.ts"

export const layer = <E>(config: Layer.Layer<BrokerConfig, E, FileSystem.FileSystem>) =>
  TcpListener.layer.pipe(
    Layer.provideMerge(GroupCoordinator.layer),
    Layer.provideMerge(FileLogStore.layer),
    Layer.provideMerge(KRaftMetadata.layer),
    Layer.provideMerge(config)
  )
