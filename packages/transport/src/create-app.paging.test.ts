import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpace, rest } from './__fixtures__/rest-client';
import { createTestStack, type TestServer, type TestStack, type TestUser } from './__fixtures__/test-stack';

interface Listed {
  id: string;
}

describe('createApp paging and filters', () => {
  let stack: TestStack;
  let alice: TestUser;

  beforeAll(async () => {
    stack = await createTestStack();
    alice = await stack.createUser('alice');
  });
  afterAll(() => stack?.close());

  const call = (method: string, path: string, json?: unknown) =>
    rest(stack.app, method, path, { key: alice.apiKey, ...(json !== undefined && { json }) });
  const fork = async (spaceId: string, parentId: string, label: string): Promise<string> => {
    const response = await call('POST', `/spaces/${spaceId}/sessions/${parentId}/fork`, { label });
    expect(response.status).toBe(201);
    return response.body.id as string;
  };
  /** Every page of `path` (which already has a query), following X-Next-Cursor. */
  const walk = async (path: string): Promise<{ ids: string[]; pages: number }> => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await call('GET', cursor ? `${path}&after=${encodeURIComponent(cursor)}` : path);
      expect(response.status).toBe(200);
      ids.push(...response.body.map((item: Listed) => item.id));
      cursor = response.headers.get('x-next-cursor');
      pages += 1;
    } while (cursor && pages < 100);
    return { ids, pages };
  };

  describe('GET /spaces/:spaceId/sessions', () => {
    it('pages the flat list with limit and after, and returns it whole without them', async () => {
      const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Paged' });
      const a = await fork(spaceId, rootId, 'A');
      await fork(spaceId, rootId, 'B');
      await fork(spaceId, a, 'A1');
      await fork(spaceId, a, 'A2');
      const whole = await call('GET', `/spaces/${spaceId}/sessions`);
      expect(whole.body).toHaveLength(5);
      expect(whole.headers.get('x-next-cursor')).toBeNull();
      const { ids, pages } = await walk(`/spaces/${spaceId}/sessions?limit=2`);
      expect(ids).toEqual(whole.body.map((session: Listed) => session.id));
      expect(pages).toBe(3);
      const first = await call('GET', `/spaces/${spaceId}/sessions?limit=2`);
      expect(first.body).toEqual(whole.body.slice(0, 2));
    });

    it('filters by status, repeated tags, a literal label prefix and meta.<key> values', async () => {
      const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Filters' });
      const agent = await stack.agentPool.getAgent(spaceId);
      const red = await fork(spaceId, rootId, '50% red');
      const blue = await fork(spaceId, rootId, '500 blue');
      const archived = await fork(spaceId, rootId, 'old');
      await agent.sessions.updateMeta(red, { tags: ['x', 'y'], metadata: { team: 'red', n: 1 } });
      await agent.sessions.updateMeta(blue, { tags: ['x'], metadata: { team: 'blue', n: '1' } });
      await call('POST', `/spaces/${spaceId}/sessions/${archived}/archive`);
      const ids = async (query: string) =>
        (await walk(`/spaces/${spaceId}/sessions?limit=1&${query}`)).ids.sort();
      expect(await ids('status=archived')).toEqual([archived]);
      expect(await ids('status=active')).toEqual([rootId, red, blue].sort());
      expect(await ids('tag=x')).toEqual([red, blue].sort());
      expect(await ids('tag=x&tag=y')).toEqual([red]);
      expect(await ids(`labelPrefix=${encodeURIComponent('50%')}`)).toEqual([red]);
      expect(await ids('labelPrefix=_')).toEqual([]);
      expect(await ids('meta.team=red')).toEqual([red]);
      expect(await ids('meta.team=red&meta.team=blue')).toEqual([red, blue].sort());
      // A query value has no type: `1` matches the number and the string.
      expect(await ids('meta.n=1')).toEqual([red, blue].sort());
      expect(await ids('meta.team=red&tag=x&status=active')).toEqual([red]);
      expect(await ids('meta.team=green')).toEqual([]);
      // Filters without limit: every matching session in one response.
      const unpaged = await call('GET', `/spaces/${spaceId}/sessions?tag=x`);
      expect(unpaged.body.map((session: Listed) => session.id)).toEqual([red, blue]);
      expect(unpaged.body[0]).toMatchObject({
        label: '50% red',
        tags: ['x', 'y'],
        metadata: { team: 'red', n: 1 },
      });
    });

    it('answers 400 for bad paging or filter parameters', async () => {
      const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Bad' });
      await fork(spaceId, rootId, 'A');
      const cursor = (await call('GET', `/spaces/${spaceId}/sessions?limit=1`)).headers.get('x-next-cursor');
      expect(cursor).toBeTruthy();
      const cases: [string, string][] = [
        ['after=not-a-cursor', 'INVALID_ARGUMENT'],
        [`after=${Buffer.from('r1').toString('base64url')}`, 'INVALID_ARGUMENT'],
        ['limit=0', 'VALIDATION_ERROR'],
        ['limit=1001', 'VALIDATION_ERROR'],
        ['status=deleted', 'VALIDATION_ERROR'],
        ['labelPrefix=', 'VALIDATION_ERROR'],
        ['tag=', 'VALIDATION_ERROR'],
        [Array.from({ length: 21 }, (_, i) => `tag=t${i}`).join('&'), 'VALIDATION_ERROR'],
        ['meta.=x', 'VALIDATION_ERROR'],
        [Array.from({ length: 21 }, (_, i) => `meta.k${i}=v`).join('&'), 'VALIDATION_ERROR'],
        ['view=tree&limit=1', 'VALIDATION_ERROR'],
        [`view=tree&after=${encodeURIComponent(cursor ?? '')}`, 'VALIDATION_ERROR'],
        ['view=tree&tag=x', 'VALIDATION_ERROR'],
      ];
      for (const [query, code] of cases) {
        const response = await call('GET', `/spaces/${spaceId}/sessions?${query}`);
        expect({ query, status: response.status, code: response.body.code }).toEqual({
          query,
          status: 400,
          code,
        });
      }
    });

    it('never lists the sessions of another space, whatever the cursor', async () => {
      const mine = await createSpace(stack.app, alice.apiKey, { label: 'Mine' });
      const theirs = await createSpace(stack.app, alice.apiKey, { label: 'Theirs' });
      await fork(theirs.spaceId, theirs.rootId, 'Foreign');
      await fork(theirs.spaceId, theirs.rootId, 'Foreign 2');
      // Their cursor after `Foreign`: their `Foreign 2` follows it, my root precedes it.
      const cursor = (await call('GET', `/spaces/${theirs.spaceId}/sessions?limit=2`)).headers.get(
        'x-next-cursor',
      );
      const response = await call(
        'GET',
        `/spaces/${mine.spaceId}/sessions?after=${encodeURIComponent(cursor ?? '')}`,
      );
      expect(response.status).toBe(200);
      expect(response.body).toEqual([]);
      expect((await walk(`/spaces/${mine.spaceId}/sessions?labelPrefix=Foreign`)).ids).toEqual([]);
    });
  });

  describe('GET /spaces/:spaceId/sessions/:id/messages', () => {
    it('gives each record its id, a cursor for after and before', async () => {
      const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Ids' });
      for (const input of ['one', 'two', 'three'])
        await call('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input });
      const path = `/spaces/${spaceId}/sessions/${rootId}/messages`;
      const all = (await call('GET', path)).body as { id: string; content: string }[];
      expect(all).toHaveLength(6);
      for (const message of all) expect(message.id).toMatch(/^\d+$/);
      expect(new Set(all.map((message) => message.id)).size).toBe(6);
      const afterSecond = await call('GET', `${path}?after=${all[1]?.id}`);
      expect(afterSecond.body).toEqual(all.slice(2));
      const beforeFifth = await call('GET', `${path}?before=${all[4]?.id}`);
      expect(beforeFifth.body).toEqual(all.slice(0, 4));
      expect(beforeFifth.headers.get('x-prev-cursor')).toBeNull();
    });

    it('pages backwards with before and X-Prev-Cursor, newest-last within a page', async () => {
      const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Before' });
      for (const input of ['one', 'two', 'three', 'four']) {
        await call('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input });
      }
      const path = `/spaces/${spaceId}/sessions/${rootId}/messages`;
      const all = (await call('GET', path)).body as { id: string }[];
      const last = all.at(-1)?.id;
      const page1 = await call('GET', `${path}?limit=3&before=${last}`);
      expect(page1.body).toEqual(all.slice(4, 7));
      expect(page1.headers.get('x-next-cursor')).toBeNull();
      const prev1 = page1.headers.get('x-prev-cursor');
      expect(prev1).toBeTruthy();
      const page2 = await call('GET', `${path}?limit=3&before=${encodeURIComponent(prev1 ?? '')}`);
      expect(page2.body).toEqual(all.slice(1, 4));
      const prev2 = page2.headers.get('x-prev-cursor');
      const page3 = await call('GET', `${path}?limit=3&before=${encodeURIComponent(prev2 ?? '')}`);
      expect(page3.body).toEqual(all.slice(0, 1));
      expect(page3.headers.get('x-prev-cursor')).toBeNull();
    });

    it('answers 400 for after with before, and for a malformed before', async () => {
      const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Bad before' });
      await call('POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, { input: 'hi' });
      const path = `/spaces/${spaceId}/sessions/${rootId}/messages`;
      const [first] = (await call('GET', path)).body as { id: string }[];
      const both = await call('GET', `${path}?after=${first?.id}&before=${first?.id}`);
      expect(both.status).toBe(400);
      expect(both.body.code).toBe('VALIDATION_ERROR');
      for (const before of ['nope!', '-3', Buffer.from('s1:0:0:x').toString('base64url')]) {
        const response = await call('GET', `${path}?before=${encodeURIComponent(before)}`);
        expect({ before, status: response.status, code: response.body.code }).toEqual({
          before,
          status: 400,
          code: 'INVALID_ARGUMENT',
        });
      }
    });
  });

  describe('under concurrent inserts (real sockets)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await stack.listen();
    });
    afterAll(() => server?.close());

    const get = async (path: string, key = alice.apiKey) => {
      const response = await fetch(`${server.httpUrl}${path}`, { headers: { 'x-api-key': key } });
      expect(response.status).toBe(200);
      return { body: (await response.json()) as Listed[], headers: response.headers };
    };
    const post = async (path: string, json: unknown, key = alice.apiKey) => {
      const response = await fetch(`${server.httpUrl}${path}`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify(json),
      });
      expect(response.status).toBeLessThan(300);
      return (await response.json()) as Listed;
    };
    /** Writes done by the concurrent writer of the running test (and whether it finished). */
    let writes = 0;
    let writerDone = false;
    const writesSeenByPages: number[] = [];
    /** Runs the writer's `count` steps, counting each. */
    const writer = async (count: number, step: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < count; i += 1) {
        await step(i);
        writes += 1;
      }
      writerDone = true;
    };
    /**
     * Waits until the writer has written since `seen` (or is done), so that writes land between
     * every two pages, however fast the pages are: the reads and the writes stay concurrent.
     */
    const nextWrite = async (seen: number) => {
      for (let i = 0; i < 5000 && writes === seen && !writerDone; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    /** Asserts that writes landed between the first and the last page, and resets the writer. */
    const expectOverlap = () => {
      expect(Math.max(...writesSeenByPages)).toBeGreaterThan(Math.min(...writesSeenByPages));
      writes = 0;
      writerDone = false;
      writesSeenByPages.length = 0;
    };
    /** Follows `header` from `first` until it is absent, collecting the ids of every page. */
    const pageThrough = async (
      first: string,
      next: (cursor: string) => string,
      header: string,
      key = alice.apiKey,
    ) => {
      const ids: string[] = [];
      let path: string | null = first;
      for (let pages = 0; path !== null && pages < 200; pages += 1) {
        if (pages > 0) await nextWrite(writesSeenByPages.at(-1) ?? 0);
        writesSeenByPages.push(writes);
        const page = await get(path, key);
        ids.push(...page.body.map((item) => item.id));
        const cursor = page.headers.get(header);
        path = cursor ? next(cursor) : null;
      }
      return ids;
    };
    const expectEachOnce = (seen: string[], existing: string[]) => {
      expect(new Set(seen).size).toBe(seen.length);
      const missing = existing.filter((id) => !seen.includes(id));
      expect(missing).toEqual([]);
    };

    it('pages sessions without a gap or a repeat while forks land all over the order', async () => {
      const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Busy tree' });
      const parents = [rootId];
      for (let i = 0; i < 12; i += 1)
        parents.push(await fork(spaceId, parents[i % parents.length] as string, `s${i}`));
      const existing = (await call('GET', `/spaces/${spaceId}/sessions`)).body.map((s: Listed) => s.id);
      expect(existing).toHaveLength(13);
      const base = `/spaces/${spaceId}/sessions`;
      const insert = () =>
        writer(30, (i) => post(`${base}/${parents[(i * 7) % parents.length]}/fork`, { label: `late ${i}` }));
      const [seen] = await Promise.all([
        pageThrough(
          `${base}?limit=2`,
          (cursor) => `${base}?limit=2&after=${encodeURIComponent(cursor)}`,
          'x-next-cursor',
        ),
        insert(),
      ]);
      expectEachOnce(seen, existing);
      expectOverlap();
      // The tree grew by every fork.
      expect((await call('GET', base)).body).toHaveLength(43);
    });

    it('pages messages forward and backward without a gap or a repeat while turns append', async () => {
      const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Busy chat' });
      const base = `/spaces/${spaceId}/sessions/${rootId}`;
      for (let i = 0; i < 5; i += 1) await call('POST', `${base}/turn`, { input: `early ${i}` });
      const existing = ((await call('GET', `${base}/messages`)).body as Listed[]).map((m) => m.id);
      expect(existing).toHaveLength(10);
      const newest = existing.at(-1) as string;
      const turns = () => writer(6, (i) => post(`${base}/turn`, { input: `late ${i}` }));
      const [forward, backward] = await Promise.all([
        pageThrough(
          `${base}/messages?limit=1`,
          (c) => `${base}/messages?limit=1&after=${encodeURIComponent(c)}`,
          'x-next-cursor',
        ),
        pageThrough(
          `${base}/messages?limit=1&before=${newest}`,
          (c) => `${base}/messages?limit=1&before=${encodeURIComponent(c)}`,
          'x-prev-cursor',
        ),
        turns(),
      ]);
      expectOverlap();
      expectEachOnce(forward, existing);
      expectEachOnce([...backward, newest], existing);
      // Backward pages hold exactly the records older than the start, each once.
      expect(backward.sort()).toEqual(existing.slice(0, -1).sort());
    });

    it('pages spaces without a gap or a repeat while spaces are created', async () => {
      const carol = await stack.createUser('carol');
      for (let i = 0; i < 7; i += 1) await createSpace(stack.app, carol.apiKey, { label: `early ${i}` });
      const existing = (await get('/spaces?limit=100', carol.apiKey)).body.map((space) => space.id);
      expect(existing).toHaveLength(7);
      const [seen] = await Promise.all([
        pageThrough(
          '/spaces?limit=2',
          (cursor) => `/spaces?limit=2&after=${cursor}`,
          'x-next-cursor',
          carol.apiKey,
        ),
        writer(10, (i) => post('/spaces', { label: `late ${i}` }, carol.apiKey)),
      ]);
      expectOverlap();
      expectEachOnce(seen, existing);
    });
  });
});

describe('createApp paging under a byte budget', () => {
  let stack: TestStack;
  let alice: TestUser;

  beforeAll(async () => {
    stack = await createTestStack({ limits: { listBytes: 1500 } });
    alice = await stack.createUser('alice');
  });
  afterAll(() => stack?.close());

  it('cuts the session list at the budget and points at the rest, even without limit', async () => {
    const { spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Budget' });
    for (let i = 0; i < 8; i += 1) {
      const response = await rest(stack.app, 'POST', `/spaces/${spaceId}/sessions/${rootId}/fork`, {
        key: alice.apiKey,
        json: { label: `child ${i} ${'x'.repeat(100)}` },
      });
      expect(response.status).toBe(201);
    }
    const ids: string[] = [];
    let path: string | null = `/spaces/${spaceId}/sessions`;
    let pages = 0;
    while (path !== null && pages < 20) {
      const response = await rest(stack.app, 'GET', path, { key: alice.apiKey });
      expect(response.status).toBe(200);
      expect(response.body.length).toBeGreaterThan(0);
      // Stops before the session that would pass the budget (a lone session may).
      if (response.body.length > 1)
        expect(Buffer.byteLength(response.text)).toBeLessThanOrEqual(1500 + 1 + response.body.length);
      ids.push(...response.body.map((session: Listed) => session.id));
      const cursor = response.headers.get('x-next-cursor');
      path = cursor ? `/spaces/${spaceId}/sessions?after=${encodeURIComponent(cursor)}` : null;
      pages += 1;
    }
    expect(pages).toBeGreaterThan(1);
    expect(ids).toHaveLength(9);
    expect(new Set(ids).size).toBe(9);
  });
});
