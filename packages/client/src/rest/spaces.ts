import { StelloApiError, type StelloErrorCode } from '../errors';
import { type HttpClient, segment } from '../http';
import { parseSse } from '../stream/sse';
import type { CreateSpaceBody, IntegrateResult, Space, SpaceEvent, UpdateSpaceBody } from '../wire';
import { type CallOptions, NEXT_CURSOR_HEADER, type Page, type PageOptions, type SpaceRef } from './options';

/** `client.spaces`: the caller's spaces, and a space's live events. */
export class SpacesApi {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** `GET /spaces`: one page of the caller's spaces, oldest first. */
  async list(options: PageOptions = {}): Promise<Page<Space>> {
    const { data, headers } = await this.#http.json<Space[]>({
      method: 'GET',
      path: '/spaces',
      query: { limit: options.limit, after: options.after },
      signal: options.signal,
    });
    return { items: data, nextCursor: headers.get(NEXT_CURSOR_HEADER) };
  }

  /** Every space of the caller, page after page. */
  async *listAll(options: Omit<PageOptions, 'after'> = {}): AsyncGenerator<Space> {
    let after: string | undefined;
    do {
      const page = await this.list({ ...options, ...(after !== undefined && { after }) });
      yield* page.items;
      after = page.nextCursor ?? undefined;
    } while (after !== undefined);
  }

  /** `POST /spaces`: a new space with its root session. */
  async create(body: CreateSpaceBody, options: CallOptions = {}): Promise<Space> {
    return (await this.#http.json<Space>({ method: 'POST', path: '/spaces', body, signal: options.signal }))
      .data;
  }

  /** `GET /spaces/:spaceId`. */
  async get({ spaceId, signal }: SpaceRef): Promise<Space> {
    return (await this.#http.json<Space>({ method: 'GET', path: `/spaces/${segment(spaceId)}`, signal }))
      .data;
  }

  /** `PATCH /spaces/:spaceId` (`null` clears a prompt). */
  async update({ spaceId, signal }: SpaceRef, body: UpdateSpaceBody): Promise<Space> {
    const path = `/spaces/${segment(spaceId)}`;
    return (await this.#http.json<Space>({ method: 'PATCH', path, body, signal })).data;
  }

  /** `DELETE /spaces/:spaceId`: the space and everything in it. */
  async delete({ spaceId, signal }: SpaceRef): Promise<void> {
    await this.#http.json<null>({ method: 'DELETE', path: `/spaces/${segment(spaceId)}`, signal });
  }

  /**
   * `POST /spaces/:spaceId/integrate`: integrates now (joining one already running): the root's
   * synthesis and the insights it sent to the children.
   */
  async integrate({ spaceId, signal }: SpaceRef): Promise<IntegrateResult> {
    const path = `/spaces/${segment(spaceId)}/integrate`;
    return (await this.#http.json<IntegrateResult>({ method: 'POST', path, signal })).data;
  }

  /**
   * `GET /spaces/:spaceId/events`: the space's changes, live only (nothing is replayed: re-read the
   * state after subscribing). Ends when the signal aborts or the loop breaks.
   *
   * @throws StelloApiError `SLOW_SUBSCRIBER` when the reader fell too far behind
   */
  async *events({ spaceId, signal }: SpaceRef): AsyncGenerator<SpaceEvent> {
    const response = await this.#http.send({
      method: 'GET',
      path: `/spaces/${segment(spaceId)}/events`,
      signal,
    });
    if (!response.body) throw new StelloApiError('INVALID_RESPONSE', 'the event stream has no body');
    try {
      for await (const event of parseSse(response.body)) {
        const data = JSON.parse(event.data) as SpaceEvent & { code?: StelloErrorCode; error?: string };
        if (event.event === 'error') {
          throw new StelloApiError(data.code ?? 'INVALID_RESPONSE', data.error ?? 'the event stream failed');
        }
        yield data;
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
  }
}
