// Entry point: `node src/Main.ts [server.properties]`. Wires the live layers (Node's file system, the
// properties file, the KRaft metadata log, the file log store, the TCP listener, the console) and runs until
// SIGINT/SIGTERM.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit, Layer, Logger } from "effect"
import { fileURLToPath } from "node:url"
import * as Broker from "./layers/Broker.ts"
import * as NodeFileSystem from "./layers/fs/NodeFileSystem.ts"
import * as PropertiesConfig from "./layers/config/PropertiesConfig.ts"

// The installed package's launcher (bin/effect-kafka-broker.js) names itself, and keeps the bundled config's data
// in the working directory.
const command = process.env["KAFKA_BROKER_COMMAND"] ?? "your_program.sh"
const usage = `Usage: ${command} [server.properties]

Starts a Kafka-compatible broker. With no argument it uses the bundled config/server.properties,
which keeps its data in ${command === "your_program.sh" ? "data/ under the project folder" : "kafka-data/ under the working directory"}.

The file is read in Apache Kafka's server.properties format; see README.md for the keys honoured.
Environment variables override the file as in Kafka's container images: KAFKA_LOG_DIRS sets log.dirs.
Set OTEL_EXPORTER_OTLP_ENDPOINT to export request spans to an OpenTelemetry collector.
With console.listener=http://HOST:PORT (the bundled config: http://127.0.0.1:8080) the web console,
its JSON API (/api/...) and Prometheus metrics (/metrics) are served there.

Options:
  -h, --help   print this help and exit

Subcommand:
  format -c server.properties [-t cluster-id] [--add-scram 'SCRAM-SHA-256=[name=bob,password=bob-secret]']...
               prepares log.dirs before the first start, as kafka-storage format: a new log dir gets
               meta.properties (a generated cluster id unless -t gives one); SCRAM users are added to the
               metadata log (an existing log dir keeps its data and gets the credentials added). With
               storage.url the database is formatted instead: its schema created, -t's cluster id stored
               (refused when it holds another), the users added.`

const args = process.argv.slice(2)
if (args[0] === "format") {
  void import("./Format.ts").then((f) => f.run(args.slice(1), usage))
} else {
  startBroker()
}

function startBroker() {
if (args.includes("-h") || args.includes("--help")) {
  console.log(usage)
  process.exit(0)
}
if (args.length > 1 || args.some((a) => a.startsWith("-"))) {
  console.error(usage)
  process.exit(2)
}
const configPath = args[0] ?? fileURLToPath(new URL("../config/server.properties", import.meta.url))

/** OTLP export of spans and logs, loaded only when asked for so that start-up stays fast. */
const Telemetry = Layer.unwrap(Effect.promise(async () => {
  const endpoint = process.env["OTEL_EXPORTER_OTLP_ENDPOINT"]
  if (endpoint === undefined || endpoint === "") return Layer.empty
  const { OtlpTracer, OtlpSerialization } = await import("effect/observability")
  const { FetchHttpClient } = await import("effect/http")
  return OtlpTracer.layer({
    url: `${endpoint.replace(/\/$/, "")}/v1/traces`,
    resource: { serviceName: process.env["OTEL_SERVICE_NAME"] ?? "kafka-broker" }
  }).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer))
}))

const main = Layer.launch(Broker.layer(PropertiesConfig.layer(configPath))).pipe(
  Effect.onInterrupt(() => Effect.logInfo("stopped")),
  // Start-up failures a user can fix get one line, not a stack trace.
  Effect.catch((e) => Console.error(`cannot start the broker: ${e._tag === "SocketServerError" ? String(e.cause) : e.message}`)),
  Effect.tap(() => Effect.sync(() => (process.exitCode = 1))),
  Effect.provide(Layer.mergeAll(NodeFileSystem.layer, Logger.layer([Logger.consoleLogFmt]), Telemetry))
)

// SIGINT/SIGTERM interrupt the broker: its layers close (listener first, then flushed logs) and the process
// exits 0, a requested and completed shutdown.
NodeRuntime.runMain(main, {
  teardown: (exit, onExit) => onExit(Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause) ? 1 : 0)
})
}
