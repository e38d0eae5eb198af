import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from './__fixtures__/rest-client';
import { createTestStack, type TestStack, type TestUser } from './__fixtures__/test-stack';

// One tenant must not hurt the others through what it can grow: lists stay within their byte
// budget however large the spaces or the history, and a very deep tree is still served.
const LIST_BYTES = 64 * 1024;

describe('REST abuse bounds', () => {
  let stack: TestStack;
  let user: TestUser;

  beforeAll(async () => {
    stack = await createTestStack({ limits: { listBytes: LIST_BYTES } });
    user = await stack.createUser('grower');
  });
  afterAll(() => stack?.close());

  it('pages GET /spaces within the byte budget, without skipping or repeating a space', async () => {
    const prompt = 'p'.repeat(20 * 1024);
    const created: string[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await rest(stack.app, 'POST', '/spaces', {
        key: user.apiKey,
        json: { label: `big ${i}`, systemPrompt: prompt },
      });
      created.push(response.body.id);
    }
    const seen: string[] = [];
    let path = '/spaces';
    for (let pages = 0; pages < 20; pages++) {
      const response = await rest(stack.app, 'GET', path, { key: user.apiKey });
      expect(response.status).toBe(200);
      // One space past the budget at most: a page always holds at least one.
      expect(Buffer.byteLength(response.text)).toBeLessThan(LIST_BYTES + prompt.length + 2048);
      seen.push(...response.body.map((space: { id: string }) => space.id));
      const next = response.headers.get('x-next-cursor');
      if (!next) break;
      path = `/spaces?after=${next}`;
    }
    expect(seen).toEqual(created);
  });

  it('serves a whole history without paging parameters only up to the byte budget', async () => {
    const space = (await rest(stack.app, 'POST', '/spaces', { key: user.apiKey, json: { label: 'history' } }))
      .body;
    const rootId: string = (
      await rest(stack.app, 'GET', `/spaces/${space.id}/sessions`, { key: user.apiKey })
    ).body[0].id;
    const input = 'x'.repeat(4 * 1024);
    for (let i = 0; i < 40; i++) {
      const turn = await rest(stack.app, 'POST', `/spaces/${space.id}/sessions/${rootId}/turn`, {
        key: user.apiKey,
        json: { input: `${i} ${input}` },
      });
      expect(turn.status).toBe(200);
    }
    // Every record, page by page (each page within the budget too).
    const all: { body: Array<{ content: string }> } = { body: [] };
    let after = '';
    for (let pages = 0; pages < 20; pages++) {
      const page = await rest(
        stack.app,
        'GET',
        `/spaces/${space.id}/sessions/${rootId}/messages?limit=10${after}`,
        {
          key: user.apiKey,
        },
      );
      all.body.push(...page.body);
      const next = page.headers.get('x-next-cursor');
      if (!next) break;
      after = `&after=${next}`;
    }
    const whole = await rest(stack.app, 'GET', `/spaces/${space.id}/sessions/${rootId}/messages`, {
      key: user.apiKey,
    });
    expect(whole.status).toBe(200);
    // At most one chunk of 25 records past the budget.
    expect(Buffer.byteLength(whole.text)).toBeLessThan(LIST_BYTES + 25 * (input.length + 512));
    // 80 records, every user record about 4 KiB: the second chunk of 25 passes the 64 KiB budget.
    expect(all.body).toHaveLength(80);
    expect(whole.body).toHaveLength(50);
    const cursor = whole.headers.get('x-next-cursor');
    expect(cursor).not.toBeNull();
    const next = await rest(
      stack.app,
      'GET',
      `/spaces/${space.id}/sessions/${rootId}/messages?after=${cursor}`,
      {
        key: user.apiKey,
      },
    );
    const contents = (page: { body: Array<{ content: string }> }) => page.body.map((m) => m.content);
    expect([...contents(whole), ...contents(next)]).toEqual(contents(all));
  });

  it('serves the tree of a 4,000-deep fork chain', async () => {
    const space = (await rest(stack.app, 'POST', '/spaces', { key: user.apiKey, json: { label: 'deep' } }))
      .body;
    const rootId: string = (
      await rest(stack.app, 'GET', `/spaces/${space.id}/sessions`, { key: user.apiKey })
    ).body[0].id;
    // Inserted in one statement (forking 4,000 times through the API would only cost time).
    await stack.db.pool.query(
      `INSERT INTO sessions (id, space_id, parent_id, label, depth, index)
       SELECT md5($1::text || i)::uuid, $1::uuid,
              CASE WHEN i = 1 THEN $2::uuid ELSE md5($1::text || (i - 1))::uuid END, 'level ' || i, i, 0
       FROM generate_series(1, 4000) AS i`,
      [space.id, rootId],
    );
    const tree = await rest(stack.app, 'GET', `/spaces/${space.id}/sessions?view=tree`, { key: user.apiKey });
    expect(tree.status).toBe(200);
    let depth = 0;
    let node = tree.body;
    while (node.children.length > 0) {
      node = node.children[0];
      depth += 1;
    }
    expect(depth).toBe(4000);
    expect(node.label).toBe('level 4000');
  });
});
