import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from './__fixtures__/rest-client';
import { createTestStack, type TestStack, type TestUser } from './__fixtures__/test-stack';
import { turnIdOfKey } from './routes/turn-id';

describe('REST turn ids, retries, status and cancel', () => {
  let stack: TestStack;
  let user: TestUser;
  let base: string;

  beforeAll(async () => {
    stack = await createTestStack();
    user = await stack.createUser('turns');
    const space = (await rest(stack.app, 'POST', '/spaces', { key: user.apiKey, json: { label: 'T' } })).body;
    const root = (await rest(stack.app, 'GET', `/spaces/${space.id}/sessions`, { key: user.apiKey })).body[0];
    base = `/spaces/${space.id}/sessions/${root.id}`;
  });
  afterAll(() => stack?.close());

  const turn = (json: unknown, headers: Record<string, string> = {}) =>
    rest(stack.app, 'POST', `${base}/turn`, { key: user.apiKey, json, headers });
  const messageCount = async () =>
    (await rest(stack.app, 'GET', `${base}/messages`, { key: user.apiKey })).body.length as number;

  it('answers a retry of the same turnId with the first result, storing one user/assistant pair', async () => {
    const turnId = randomUUID();
    const before = await messageCount();
    const first = await turn({ input: 'hello once', turnId });
    expect(first.status).toBe(200);
    expect(first.body.turnId).toBe(turnId);
    const again = await turn({ input: 'hello once', turnId });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect((await messageCount()) - before).toBe(2);
  });

  it('maps an Idempotency-Key header to a stable turn id', async () => {
    const key = `order-${randomUUID()}`;
    const first = await turn({ input: 'by key' }, { 'Idempotency-Key': key });
    expect(first.body.turnId).toBe(turnIdOfKey(key));
    const before = await messageCount();
    const again = await turn({ input: 'by key' }, { 'Idempotency-Key': key });
    expect(again.body).toEqual(first.body);
    expect(await messageCount()).toBe(before);
    const clash = await turn({ input: 'by key', turnId: randomUUID() }, { 'Idempotency-Key': key });
    expect(clash.status).toBe(400);
  });

  it('refuses the same turnId with another input: 409 TURN_ID_CONFLICT', async () => {
    const turnId = randomUUID();
    expect((await turn({ input: 'first input', turnId })).status).toBe(200);
    const conflict = await turn({ input: 'other input', turnId });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('TURN_ID_CONFLICT');
  });

  it('reports a turn status with its result, and 404 TURN_NOT_FOUND for an unknown one', async () => {
    const turnId = randomUUID();
    const done = await turn({ input: 'status please', turnId });
    const status = await rest(stack.app, 'GET', `${base}/turns/${turnId}`, { key: user.apiKey });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ turnId, status: 'completed', result: done.body });
    const unknown = await rest(stack.app, 'GET', `${base}/turns/${randomUUID()}`, { key: user.apiKey });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('TURN_NOT_FOUND');
  });

  it('cancels a turn before it starts: 202, then its late submission ends cancelled and writes nothing', async () => {
    const turnId = randomUUID();
    const cancelled = await rest(stack.app, 'POST', `${base}/turns/${turnId}/cancel`, { key: user.apiKey });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toEqual({ turnId, status: 'cancelled' });
    const before = await messageCount();
    const late = await turn({ input: 'too late', turnId });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('TURN_CANCELLED');
    expect(await messageCount()).toBe(before);
    const status = await rest(stack.app, 'GET', `${base}/turns/${turnId}`, { key: user.apiKey });
    expect(status.body.status).toBe('cancelled');
  });

  it('validates turn ids and the concurrency policy', async () => {
    expect((await turn({ input: 'x', turnId: 'not-a-uuid' })).status).toBe(400);
    expect((await turn({ input: 'x', concurrency: 'sometimes' })).status).toBe(400);
    expect((await turn({ input: 'x', concurrency: 'reject' })).status).toBe(200);
    expect((await rest(stack.app, 'GET', `${base}/turns/nope`, { key: user.apiKey })).status).toBe(400);
  });
});
