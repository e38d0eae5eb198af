import { type HttpClient, segment } from '../http';
import { streamTurnOverSse } from '../stream/sse-turn';
import type { TurnStream } from '../stream/turn-stream';
import type {
  ConsolidateResult,
  ForkSessionBody,
  RecordView,
  SessionInfo,
  SessionSlot,
  SessionTreeNode,
  WritableSessionSlot,
} from '../wire';
import {
  NEXT_CURSOR_HEADER,
  type Page,
  type PageOptions,
  type SessionRef,
  type SpaceRef,
  sessionPath,
} from './options';
import type { SendTurnOptions, TurnsApi } from './turns';

/** `POST …/archive` answers the archived session with its id once more. */
export type ArchivedSession = SessionInfo & { sessionId: string };

/** `client.sessions`: the session tree of a space, each session's records and data, SSE streams. */
export class SessionsApi {
  readonly #http: HttpClient;
  readonly #turns: TurnsApi;

  constructor(http: HttpClient, turns: TurnsApi) {
    this.#http = http;
    this.#turns = turns;
  }

  /** `GET /spaces/:spaceId/sessions`: every session, flat, with its topology. */
  async list({ spaceId, signal }: SpaceRef): Promise<SessionInfo[]> {
    const path = `/spaces/${segment(spaceId)}/sessions`;
    return (await this.#http.json<SessionInfo[]>({ method: 'GET', path, signal })).data;
  }

  /** `GET /spaces/:spaceId/sessions?view=tree`: the nested tree from the root (see the tree helpers). */
  async tree({ spaceId, signal }: SpaceRef): Promise<SessionTreeNode> {
    const path = `/spaces/${segment(spaceId)}/sessions`;
    return (await this.#http.json<SessionTreeNode>({ method: 'GET', path, query: { view: 'tree' }, signal }))
      .data;
  }

  /** `GET …/sessions/:id`. */
  async get({ signal, ...ref }: SessionRef): Promise<SessionInfo> {
    return (await this.#http.json<SessionInfo>({ method: 'GET', path: sessionPath(ref), signal })).data;
  }

  /** `GET …/sessions/:id/messages`: records oldest first; without `limit`, the whole history. */
  async messages({ signal, limit, after, ...ref }: SessionRef & PageOptions): Promise<Page<RecordView>> {
    const { data, headers } = await this.#http.json<RecordView[]>({
      method: 'GET',
      path: `${sessionPath(ref)}/messages`,
      query: { limit, after },
      signal,
    });
    return { items: data, nextCursor: headers.get(NEXT_CURSOR_HEADER) };
  }

  /** `POST …/sessions/:id/fork`: a child of the session (201). */
  async fork({ signal, ...ref }: SessionRef, body: ForkSessionBody): Promise<SessionInfo> {
    const path = `${sessionPath(ref)}/fork`;
    return (await this.#http.json<SessionInfo>({ method: 'POST', path, body, signal })).data;
  }

  /** `POST …/sessions/:id/archive`: no more turns or forks; the data stays readable. */
  async archive({ signal, ...ref }: SessionRef): Promise<ArchivedSession> {
    const path = `${sessionPath(ref)}/archive`;
    return (await this.#http.json<ArchivedSession>({ method: 'POST', path, signal })).data;
  }

  /**
   * `POST …/sessions/:id/consolidate`: consolidates the session's memory now (joining one already
   * running) and answers the new memory. 409 `INVALID_OPERATION` for the root.
   */
  async consolidate({ signal, ...ref }: SessionRef): Promise<ConsolidateResult> {
    const path = `${sessionPath(ref)}/consolidate`;
    return (await this.#http.json<ConsolidateResult>({ method: 'POST', path, signal })).data;
  }

  /** `GET …/sessions/:id/<slot>`: a prompt, the memory or the insight (`null` when unset). */
  async getSlot({ signal, slot, ...ref }: SessionRef & { slot: SessionSlot }): Promise<string | null> {
    const path = `${sessionPath(ref)}/${slot}`;
    return (await this.#http.json<{ content: string | null }>({ method: 'GET', path, signal })).data.content;
  }

  /** `PUT …/sessions/:id/<slot>`: writes a prompt (409 `SESSION_ARCHIVED` on an archived session). */
  async putSlot({
    signal,
    slot,
    content,
    ...ref
  }: SessionRef & { slot: WritableSessionSlot; content: string }): Promise<string | null> {
    const path = `${sessionPath(ref)}/${slot}`;
    const body = { content };
    return (await this.#http.json<{ content: string | null }>({ method: 'PUT', path, body, signal })).data
      .content;
  }

  /**
   * `POST …/sessions/:id/stream`: a turn streamed over Server-Sent Events (the fallback where a
   * WebSocket cannot go). The turn id is chosen here; a broken stream resumes by itself with
   * `Last-Event-ID`. Aborting `signal` stops listening; the turn goes on (`cancel()` stops it).
   *
   * @example
   * for await (const frame of client.sessions.stream({ spaceId, sessionId, input: 'Hi' })) {
   *   if (frame.type === 'stream.delta') output.append(frame.chunk);
   * }
   */
  stream(options: SendTurnOptions): TurnStream {
    const turnId = options.turnId ?? crypto.randomUUID();
    const { spaceId, sessionId } = options;
    return streamTurnOverSse({
      http: this.#http,
      spaceId,
      sessionId,
      turnId,
      start: { input: options.input, concurrency: options.concurrency },
      signal: options.signal,
      reconnect: options.retry,
      cancel: async () => {
        await this.#turns.cancel({ spaceId, sessionId, turnId });
      },
    });
  }
}
