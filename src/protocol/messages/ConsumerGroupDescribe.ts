import { api, array, bool, field, int16, int32, int8, string, struct, uuid, versions } from "../Message.ts"

const Assignment = struct({
  topicPartitions: field(array(struct({
    topicId: field(uuid),
    topicName: field(string),
    partitions: field(array(int32))
  })))
})

export const ConsumerGroupDescribe = api({
  key: 69,
  name: "ConsumerGroupDescribe",
  validVersions: versions("0-1"),
  flexibleFrom: 0,
  request: struct({
    groupIds: field(array(string)),
    includeAuthorizedOperations: field(bool)
  }),
  response: struct({
    throttleTimeMs: field(int32),
    groups: field(array(struct({
      errorCode: field(int16),
      errorMessage: field(string, "0+", { nullable: "0+", default: null }),
      groupId: field(string),
      groupState: field(string),
      groupEpoch: field(int32),
      assignmentEpoch: field(int32),
      assignorName: field(string),
      members: field(array(struct({
        memberId: field(string),
        instanceId: field(string, "0+", { nullable: "0+", default: null }),
        rackId: field(string, "0+", { nullable: "0+", default: null }),
        memberEpoch: field(int32),
        clientId: field(string),
        clientHost: field(string),
        subscribedTopicNames: field(array(string)),
        subscribedTopicRegex: field(string, "0+", { nullable: "0+", default: null }),
        assignment: field(Assignment),
        targetAssignment: field(Assignment),
        /** v1: -1 unknown, 0 classic, 1 consumer. */
        memberType: field(int8, "1+", { default: -1 })
      }))),
      authorizedOperations: field(int32, "0+", { default: -2147483648 })
    })))
  })
})
