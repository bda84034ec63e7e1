// `your_program.sh format -c server.properties [-t cluster-id] [--add-scram SPEC]...`: prepares log.dirs as
// `kafka-storage format` does. A new log dir gets meta.properties with the given (or a generated) cluster id;
// SCRAM credentials are appended to the metadata log as UserScramCredentialRecords. An existing log dir keeps
// its data and identity and gets the credentials added. With `storage.url`, the database is what is formatted:
// its schema migrated, the cluster id stored there (refused when it already holds another), the credentials
// added to its metadata log. Passwords are never printed.
import { Console, Effect, Layer, Logger } from "effect"
import * as Broker from "./layers/Broker.ts"
import * as PropertiesConfig from "./layers/config/PropertiesConfig.ts"
import * as NodeFileSystem from "./layers/fs/NodeFileSystem.ts"
import { META_PROPERTIES } from "./layers/metadata/KRaftMetadata.ts"
import { clusterIdOf } from "./layers/sql/SqlMetadata.ts"
import * as SqlStorage from "./layers/sql/SqlStorage.ts"
import { SqlClient } from "effect/sql/SqlClient"
import { BrokerConfig } from "./services/config/BrokerConfig.ts"
import { type AddScram, parseAddScram } from "./services/security/AddScram.ts"
import { makeCredential } from "./services/security/Scram.ts"
import { ScramCredentials } from "./services/security/ScramCredentials.ts"
import { Hashing } from "./services/security/Hashing.ts"
import { FileSystem } from "effect"

export const run = async (args: ReadonlyArray<string>, usage: string) => {
  let config: string | undefined
  let clusterId: string | undefined
  const scram: Array<AddScram> = []
  const die = (message: string) => {
    console.error(message)
    process.exit(2)
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const value = () => args[++i] ?? die(`format: ${a} needs a value\n\n${usage}`)!
    if (a === "-h" || a === "--help") {
      console.log(usage)
      process.exit(0)
    } else if (a === "-c" || a === "--config") config = value()
    else if (a === "-t" || a === "--cluster-id") clusterId = value()
    else if (a === "-S" || a === "--add-scram") {
      const parsed = parseAddScram(value())
      if (typeof parsed === "string") die(`format: ${parsed}`)
      else scram.push(parsed)
    } else if (a === "-g" || a === "--ignore-formatted" || a === "--standalone" || a === "-s") {
      // Accepted as kafka-storage takes them: formatting here never overwrites.
    } else die(`format: unknown option ${a}\n\n${usage}`)
  }
  if (config === undefined) return die(`format: -c server.properties is required\n\n${usage}`)

  const program = Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const { logDir, nodeId, storageUrl } = yield* BrokerConfig
    const path = `${logDir}/${META_PROPERTIES}`
    if (clusterId !== undefined && storageUrl !== undefined) {
      const wanted = clusterId
      const stored = yield* Effect.flatMap(SqlClient, (sql) => clusterIdOf(sql, wanted)).pipe(Effect.provide(SqlStorage.client))
      if (stored !== wanted) return yield* Effect.fail(new Error(`the database of storage.url belongs to cluster ${stored}, not ${wanted}`))
    } else if (clusterId !== undefined && !(yield* fs.exists(path))) {
      yield* fs.makeDirectory(logDir, { recursive: true })
      yield* fs.writeFileString(path, `#\n#Written by format\nversion=1\nnode.id=${nodeId}\ncluster.id=${clusterId}\n`, { flag: "wx" })
    }
    // Building the broker's services (without its listener) creates meta.properties and the metadata log.
    yield* Effect.gen(function*() {
      const store = yield* ScramCredentials
      const hashing = yield* Hashing
      for (const s of scram) {
        yield* store.upsert(s.name, makeCredential(hashing, s.mechanism, s.password, s.iterations))
        yield* Console.log(`added ${s.mechanism} credentials for ${s.name}`)
      }
    }).pipe(Effect.provide(Broker.services(Layer.succeed(BrokerConfig, yield* BrokerConfig).pipe(Layer.merge(Layer.succeed(FileSystem.FileSystem, fs))))))
    yield* Console.log(storageUrl === undefined ? `formatted ${logDir}` : "formatted the database of storage.url")
  })
  const exit = await Effect.runPromiseExit(program.pipe(
    Effect.scoped,
    Effect.provide(Layer.mergeAll(PropertiesConfig.layer(config).pipe(Layer.provideMerge(NodeFileSystem.layer)), Logger.layer([Logger.consoleLogFmt])))
  ))
  if (exit._tag === "Failure") {
    console.error(`format failed: ${String(exit.cause).split("\n")[0]}`)
    process.exit(1)
  }
  process.exit(0)
}
