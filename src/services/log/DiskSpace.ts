// The file system a log dir is on, as DescribeLogDirs describes it: the dir's absolute path and the volume's
// total and usable bytes. A reference with a default: Node's file system layer provides the real answer
// (statfs); without it (the in-memory file system) the sizes are unknown, -1, which is what Kafka's
// DescribeLogDirs answers when it cannot tell.
import { Context, Effect } from "effect"

export interface LogDirSpace {
  readonly path: string
  readonly totalBytes: number
  readonly usableBytes: number
}

export const DiskSpace = Context.Reference<{ readonly describe: (path: string) => Effect.Effect<LogDirSpace> }>("kafka/DiskSpace", {
  defaultValue: () => ({ describe: (path) => Effect.succeed({ path, totalBytes: -1, usableBytes: -1 }) })
})
