import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpace, type RestResponse, rest } from './__fixtures__/rest-client';
import { createTestStack, type TestStack, type TestUser } from './__fixtures__/test-stack';

const BODY_LIMIT_BYTES = 4096;

/** One route of the matrix: how to call it validly and which bodies have wrong types. */
interface RouteCase {
  method: string;
  path: (spaceId: string, sessionId: string) => string;
  /** A valid body (routes that read one). */
  body?: unknown;
  /** Bodies with missing or mistyped fields. */
  wrongTypes?: unknown[];
  /** True when the path holds a session id. */
  session: boolean;
}

const slot = (name: string) => (s: string, id: string) => `/spaces/${s}/sessions/${id}/${name}`;
const CONTENT_WRONG = [{}, { content: 5 }, { content: null }, { content: ['x'] }];

const SPACE_ROUTES: RouteCase[] = [
  { method: 'GET', path: (s) => `/spaces/${s}`, session: false },
  {
    method: 'PATCH',
    path: (s) => `/spaces/${s}`,
    body: { label: 'Renamed' },
    wrongTypes: [
      { label: 5 },
      { label: '' },
      { label: '   ' },
      { label: 'x'.repeat(201) },
      { systemPrompt: 5 },
      { consolidatePrompt: ['x'] },
      { integratePrompt: {} },
      { config: [] },
      { config: 'x' },
      { config: null },
      [],
      'text',
    ],
    session: false,
  },
  { method: 'DELETE', path: (s) => `/spaces/${s}`, session: false },
  { method: 'GET', path: (s) => `/spaces/${s}/sessions`, session: false },
  { method: 'GET', path: (s, id) => `/spaces/${s}/sessions/${id}`, session: true },
  { method: 'GET', path: slot('messages'), session: true },
  {
    method: 'POST',
    path: slot('turn'),
    body: { input: 'hello' },
    wrongTypes: [{}, { input: 5 }, { input: '' }, { input: null }, { input: ['hi'] }, null, 42],
    session: true,
  },
  {
    method: 'POST',
    path: slot('fork'),
    body: { label: 'Fork' },
    wrongTypes: [
      {},
      { label: '' },
      { label: 5 },
      { label: 'x', scope: 5 },
      { label: 'x', context: 'all' },
      { label: 'x'.repeat(201) },
    ],
    session: true,
  },
  { method: 'POST', path: slot('archive'), session: true },
  { method: 'GET', path: slot('system-prompt'), session: true },
  {
    method: 'PUT',
    path: slot('system-prompt'),
    body: { content: 'p' },
    wrongTypes: CONTENT_WRONG,
    session: true,
  },
  { method: 'GET', path: slot('memory'), session: true },
  { method: 'GET', path: slot('insight'), session: true },
  { method: 'GET', path: slot('consolidate-prompt'), session: true },
  {
    method: 'PUT',
    path: slot('consolidate-prompt'),
    body: { content: 'c' },
    wrongTypes: CONTENT_WRONG,
    session: true,
  },
  { method: 'GET', path: slot('integrate-prompt'), session: true },
  {
    method: 'PUT',
    path: slot('integrate-prompt'),
    body: { content: 'i' },
    wrongTypes: CONTENT_WRONG,
    session: true,
  },
];

function expectError(response: RestResponse, status: number, code: string): void {
  expect(response.status, `${code}: ${response.text}`).toBe(status);
  expect(response.body).toMatchObject({ error: expect.any(String), code });
  expect(Object.keys(response.body).every((key) => ['error', 'code', 'details'].includes(key))).toBe(true);
}

describe('createApp', () => {
  let stack: TestStack;
  let alice: TestUser;
  let bob: TestUser;
  /** alice's space and a child session in it. */
  let spaceId: string;
  let sessionId: string;
  /** A second space of alice: its root is a session "of another space" for spaceId. */
  let otherSpaceId: string;
  let otherSessionId: string;
  /** bob's space. */
  let bobSpaceId: string;

  beforeAll(async () => {
    stack = await createTestStack({ limits: { bodyBytes: BODY_LIMIT_BYTES } });
    alice = await stack.createUser('alice');
    bob = await stack.createUser('bob');
    const create = (user: TestUser, label: string) =>
      createSpace(stack.app, user.apiKey, { label, systemPrompt: `${label} prompt` });
    const mine = await create(alice, 'Mine');
    spaceId = mine.spaceId;
    const child = await rest(stack.app, 'POST', `/spaces/${spaceId}/sessions/${mine.rootId}/fork`, {
      key: alice.apiKey,
      json: { label: 'Child' },
    });
    sessionId = child.body.id;
    const other = await create(alice, 'Other');
    otherSpaceId = other.spaceId;
    otherSessionId = other.rootId;
    bobSpaceId = (await create(bob, 'Bob')).spaceId;
  });
  afterAll(() => stack?.close());

  const send = (route: RouteCase, path: string, key: string | undefined, json = route.body) =>
    rest(stack.app, route.method, path, {
      ...(key !== undefined && { key }),
      ...(json !== undefined && { json }),
    });

  describe.each(
    SPACE_ROUTES.map((route) => [`${route.method} ${route.path(':spaceId', ':id')}`, route] as const),
  )('%s', (_name, route) => {
    it('rejects a missing key with 401 MISSING_API_KEY', async () => {
      expectError(await send(route, route.path(spaceId, sessionId), undefined), 401, 'MISSING_API_KEY');
    });

    it('rejects an unknown key with 401 INVALID_API_KEY', async () => {
      expectError(
        await send(route, route.path(spaceId, sessionId), 'stello_not-a-real-key-0000000000'),
        401,
        'INVALID_API_KEY',
      );
    });

    it("rejects another user's space with 403 FORBIDDEN", async () => {
      expectError(await send(route, route.path(bobSpaceId, sessionId), alice.apiKey), 403, 'FORBIDDEN');
    });

    it('answers an unknown space with 404 SPACE_NOT_FOUND', async () => {
      expectError(
        await send(route, route.path(crypto.randomUUID(), sessionId), alice.apiKey),
        404,
        'SPACE_NOT_FOUND',
      );
    });

    it('rejects a non-UUID space id with 400 INVALID_ID', async () => {
      expectError(await send(route, route.path('not-a-uuid', sessionId), alice.apiKey), 400, 'INVALID_ID');
      expectError(await send(route, route.path("1' OR '1'='1", sessionId), alice.apiKey), 400, 'INVALID_ID');
    });

    if (route.session) {
      it('answers a session of another space with 404 SESSION_NOT_FOUND and no data', async () => {
        const response = await send(route, route.path(spaceId, otherSessionId), alice.apiKey);
        expectError(response, 404, 'SESSION_NOT_FOUND');
        expect(response.text).not.toContain('Other');
      });

      it('rejects a non-UUID session id with 400 INVALID_ID', async () => {
        expectError(await send(route, route.path(spaceId, 'abc'), alice.apiKey), 400, 'INVALID_ID');
      });
    }

    if (route.body !== undefined) {
      it('rejects malformed JSON with 400 INVALID_JSON', async () => {
        for (const raw of ['{"label":', 'not json', '']) {
          const response = await rest(stack.app, route.method, route.path(spaceId, sessionId), {
            key: alice.apiKey,
            raw,
          });
          expectError(response, 400, 'INVALID_JSON');
        }
      });

      it('rejects missing or mistyped fields with 400 VALIDATION_ERROR and details', async () => {
        for (const body of route.wrongTypes ?? []) {
          const response = await send(route, route.path(spaceId, sessionId), alice.apiKey, body);
          expectError(response, 400, 'VALIDATION_ERROR');
          expect(Array.isArray(response.body.details), JSON.stringify(body)).toBe(true);
        }
      });
    }

    if (route.method !== 'GET' && route.method !== 'DELETE') {
      it('rejects a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
        const response = await send(route, route.path(spaceId, sessionId), alice.apiKey, {
          label: 'x',
          input: 'x'.repeat(BODY_LIMIT_BYTES),
          content: 'x',
        });
        expectError(response, 413, 'PAYLOAD_TOO_LARGE');
      });
    }
  });

  describe('POST /spaces and GET /spaces', () => {
    it('reject a missing or unknown key with 401', async () => {
      for (const method of ['GET', 'POST']) {
        const json = method === 'POST' ? { label: 'x' } : undefined;
        expectError(await rest(stack.app, method, '/spaces', { json }), 401, 'MISSING_API_KEY');
        expectError(await rest(stack.app, method, '/spaces', { key: 'nope', json }), 401, 'INVALID_API_KEY');
      }
    });

    it('POST rejects malformed JSON, wrong types and oversize bodies with 4xx', async () => {
      expectError(
        await rest(stack.app, 'POST', '/spaces', { key: alice.apiKey, raw: '{' }),
        400,
        'INVALID_JSON',
      );
      for (const body of [
        {},
        { label: 5 },
        { label: '' },
        { label: 'x', systemPrompt: 5 },
        { label: 'x', config: [1] },
        [],
        null,
      ]) {
        expectError(
          await rest(stack.app, 'POST', '/spaces', { key: alice.apiKey, json: body }),
          400,
          'VALIDATION_ERROR',
        );
      }
      const big = await rest(stack.app, 'POST', '/spaces', {
        key: alice.apiKey,
        json: { label: 'x', systemPrompt: 'x'.repeat(BODY_LIMIT_BYTES) },
      });
      expectError(big, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('rejects an oversize body announced by Content-Length over real HTTP', async () => {
      const server = await stack.listen();
      const response = await fetch(`${server.httpUrl}/spaces`, {
        method: 'POST',
        headers: { 'x-api-key': alice.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ label: 'x'.repeat(BODY_LIMIT_BYTES) }),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      await server.close();
    });
  });

  describe('order of checks', () => {
    it('checks the key before the space, and the space before the body', async () => {
      expectError(await rest(stack.app, 'PATCH', '/spaces/not-a-uuid', { raw: '{' }), 401, 'MISSING_API_KEY');
      expectError(
        await rest(stack.app, 'PATCH', `/spaces/${bobSpaceId}`, { key: alice.apiKey, raw: '{' }),
        403,
        'FORBIDDEN',
      );
      expectError(
        await rest(stack.app, 'POST', `/spaces/${crypto.randomUUID()}/sessions/${sessionId}/turn`, {
          key: alice.apiKey,
          raw: '{',
        }),
        404,
        'SPACE_NOT_FOUND',
      );
    });
  });

  describe('tenant isolation', () => {
    it('left the session of the other space untouched after every rejected call', async () => {
      const key = { key: alice.apiKey };
      const info = await rest(stack.app, 'GET', `/spaces/${otherSpaceId}/sessions/${otherSessionId}`, key);
      expect(info.body).toMatchObject({ status: 'active', turnCount: 0, children: [] });
      expect(
        (await rest(stack.app, 'GET', `/spaces/${otherSpaceId}/sessions/${otherSessionId}/messages`, key))
          .body,
      ).toEqual([]);
      expect(
        (
          await rest(
            stack.app,
            'GET',
            `/spaces/${otherSpaceId}/sessions/${otherSessionId}/system-prompt`,
            key,
          )
        ).body,
      ).toEqual({
        content: 'Other prompt',
      });
      expect((await rest(stack.app, 'GET', `/spaces/${bobSpaceId}`, { key: bob.apiKey })).status).toBe(200);
    });
  });
});
