// The console's client of the broker's JSON API (`/api/...`, types in src/services/console/Views.ts). Every
// answer that is not 2xx is an ApiError; it is thrown as `ApiFailure` carrying the HTTP status.
import type {
  ApiError,
  CreateTopicBody,
  GroupDetail,
  GroupSummary,
  MessagePage,
  Overview,
  ProduceBody,
  ProduceResult,
  Rates,
  ResetOffsetsBody,
  TopicDetail,
  TopicSummary
} from "../services/console/Views.ts"

export class ApiFailure extends Error {
  readonly status: number
  readonly body: ApiError
  constructor(status: number, body: ApiError) {
    super(body.error)
    this.status = status
    this.body = body
  }
}

const request = async <A>(method: string, path: string, body?: unknown): Promise<A> => {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body)
  })
  if (response.status === 204) return undefined as A
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = text === "" ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }
  if (!response.ok) {
    const error = parsed !== null && typeof parsed === "object" && "error" in parsed
      ? (parsed as ApiError)
      : { error: `${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ""}` }
    throw new ApiFailure(response.status, error)
  }
  return parsed as A
}

const segment = encodeURIComponent

export interface MessageQuery {
  readonly partition: "all" | number
  readonly from: "newest" | "oldest" | "offset" | "timestamp"
  readonly offset?: number
  readonly timestamp?: number
  readonly limit?: number
}

export const api = {
  overview: () => request<Overview>("GET", "/api/overview"),
  topics: () => request<ReadonlyArray<TopicSummary>>("GET", "/api/topics"),
  topic: (name: string) => request<TopicDetail>("GET", `/api/topics/${segment(name)}`),
  createTopic: (body: CreateTopicBody) => request<TopicSummary>("POST", "/api/topics", body),
  deleteTopic: (name: string) => request<void>("DELETE", `/api/topics/${segment(name)}`),
  messages: (name: string, query: MessageQuery) => {
    const params = new URLSearchParams({ partition: String(query.partition), from: query.from })
    if (query.offset !== undefined) params.set("offset", String(query.offset))
    if (query.timestamp !== undefined) params.set("timestamp", String(query.timestamp))
    if (query.limit !== undefined) params.set("limit", String(query.limit))
    return request<MessagePage>("GET", `/api/topics/${segment(name)}/messages?${params}`)
  },
  produce: (name: string, body: ProduceBody) => request<ProduceResult>("POST", `/api/topics/${segment(name)}/messages`, body),
  groups: () => request<ReadonlyArray<GroupSummary>>("GET", "/api/groups"),
  group: (id: string) => request<GroupDetail>("GET", `/api/groups/${segment(id)}`),
  resetOffsets: (id: string, body: ResetOffsetsBody) => request<GroupDetail>("POST", `/api/groups/${segment(id)}/offsets`, body),
  rates: () => request<Rates>("GET", "/api/rates")
}

/** What a failure says on the page: the broker's error (and Kafka error code) when it sent one. */
export const describeError = (error: unknown): string => {
  if (error instanceof ApiFailure) {
    return `${error.body.error}${error.body.errorCode !== undefined ? ` (Kafka error ${error.body.errorCode})` : ""} — HTTP ${error.status}`
  }
  return error instanceof Error ? error.message : String(error)
}
