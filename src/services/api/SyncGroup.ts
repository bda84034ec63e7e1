// SyncGroup v0-v5: the leader sends the assignment of every member; each member waits for its own. See
// GroupCoordinator.
import { Effect } from "effect"
import { SyncGroup } from "../../protocol/messages/SyncGroup.ts"
import { GroupCoordinator } from "../group/GroupCoordinator.ts"
import { handler } from "./Handler.ts"

export const make = handler(SyncGroup, (request) =>
  Effect.gen(function*() {
    const result = yield* (yield* GroupCoordinator).sync(request)
    return { throttleTimeMs: 0, ...result }
  }), { waits: () => true })
