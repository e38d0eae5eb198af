import type { Hono } from 'hono';
import type { AuthEnv } from '../types';

/** A REST response with its body parsed as JSON (`null` when empty). */
export interface RestResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of the JSON body
  body: any;
  text: string;
}

/** Options of one request: the API key, a JSON body or a raw body, extra headers. */
export interface RestRequestOptions {
  key?: string;
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/** Sends a request to the app in process (`app.request`) and parses the answer. */
export async function rest(
  app: Hono<AuthEnv>,
  method: string,
  path: string,
  options: RestRequestOptions = {},
): Promise<RestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers['x-api-key'] = options.key;
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  } else if (options.raw !== undefined) {
    body = options.raw;
    headers['content-type'] ??= 'application/json';
  }
  const response = await app.request(path, { method, headers, ...(body !== undefined && { body }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null, text };
}

/**
 * Creates a space through the app (`POST /spaces` with `body`) and returns its id and the id of
 * its root session; throws when the app refuses.
 */
export async function createSpace(
  app: Hono<AuthEnv>,
  key: string,
  body: Record<string, unknown>,
): Promise<{ spaceId: string; rootId: string }> {
  const space = await rest(app, 'POST', '/spaces', { key, json: body });
  if (space.status !== 201) throw new Error(`POST /spaces answered ${space.status}: ${space.text}`);
  const sessions = await rest(app, 'GET', `/spaces/${space.body.id}/sessions`, { key });
  return { spaceId: space.body.id as string, rootId: sessions.body[0].id as string };
}
