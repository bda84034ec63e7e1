// A socket for driving the connection pipeline without a network: its reads are `chunks`, then a clean close by
// the peer; every write call is collected as one entry (the parts of one `writeAll` joined).
import { Effect } from "effect"
import * as Socket from "effect/socket/Socket"
import { concat } from "../../src/protocol/Bytes.ts"

export const memorySocket = (chunks: ReadonlyArray<Uint8Array>) => {
  const written: Array<Uint8Array> = []
  let next = 0
  const socket = Socket.make({
    reader: Effect.succeed({
      pull: Effect.suspend(() =>
        next < chunks.length
          ? Effect.succeed([chunks[next++]!] as const)
          : Effect.fail(new Socket.SocketError({ reason: new Socket.SocketCloseError({ code: 1000 }) }))
      ),
      upgrade: Socket.SocketUpgradeError.unsupported
    }),
    writer: Effect.succeed({
      write: (chunk) => Effect.sync(() => void (chunk instanceof Uint8Array && written.push(chunk))),
      writeAll: (parts) => Effect.sync(() => void written.push(concat(parts.filter((p) => p instanceof Uint8Array))))
    })
  })
  return { socket, written }
}
