// SyncGroup v0-v5: the leader sends the assignment of every member; each member waits for its own. See
// GroupCoordinator.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { SyncGroup } from "../../protocol/messages/SyncGroup.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"

export const make = handler(SyncGroup, "0-5", (request) =>
  Effect.gen(function*() {
    return yield* (yield* GroupCoordinator).sync(request).pipe(
      Effect.map((result) => ({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, ...result })),
      Effect.catch((e) =>
        Effect.succeed({ throttleTimeMs: 0, errorCode: e.code, protocolType: null, protocolName: null, assignment: new Uint8Array(0) })
      )
    )
  }), { waits: () => true })
