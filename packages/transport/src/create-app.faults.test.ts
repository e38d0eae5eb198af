import { createTestDatabase, type FakeLLMServer, startFakeOpenAI } from '@internal/testing';
import { PgStores, SpaceManager } from '@stello-ai/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failWhenAskedTo, fakeOpenAIModel } from './__fixtures__/fake-openai-model';
import { createSpace, rest } from './__fixtures__/rest-client';
import { createTestStack, type TestStack, type TestUser } from './__fixtures__/test-stack';
import { createApp } from './create-app';

const PROVIDER_SECRET = 'quota exceeded for key sk-provider-secret';

describe('createApp', () => {
  let llm: FakeLLMServer;
  let stack: TestStack;
  let alice: TestUser;
  let spaceId: string;
  let rootId: string;

  beforeAll(async () => {
    llm = await startFakeOpenAI({ script: failWhenAskedTo(PROVIDER_SECRET) });
    stack = await createTestStack({ model: fakeOpenAIModel(llm) });
    alice = await stack.createUser('alice');
    ({ spaceId, rootId } = await createSpace(stack.app, alice.apiKey, { label: 'Faults' }));
  });
  afterAll(async () => {
    await stack?.close();
    await llm?.close();
  });

  it('answers a provider failure with 502 LLM_ERROR, hides its message and stores nothing', async () => {
    const response = await rest(stack.app, 'POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, {
      key: alice.apiKey,
      json: { input: 'please FAIL' },
    });
    expect(response.status).toBe(502);
    expect(response.body).toEqual({ error: expect.any(String), code: 'LLM_ERROR' });
    expect(response.text).not.toContain('sk-provider-secret');
    const messages = await rest(stack.app, 'GET', `/spaces/${spaceId}/sessions/${rootId}/messages`, {
      key: alice.apiKey,
    });
    expect(messages.body).toEqual([]);
    expect(
      stack.logs.some((entry) => entry.event === 'turn.failed' && entry.fields.code === 'LLM_ERROR'),
    ).toBe(true);

    const ok = await rest(stack.app, 'POST', `/spaces/${spaceId}/sessions/${rootId}/turn`, {
      key: alice.apiKey,
      json: { input: 'hello' },
    });
    expect(ok.status).toBe(200);
  });

  it('answers a real fault with a generic 500 INTERNAL and logs it with the request id', async () => {
    const broken = await createTestDatabase();
    await broken.drop();
    // A manager on an ended pool: every statement fails with an error the client must not see.
    const app = createApp({
      spaceManager: new SpaceManager(new PgStores(broken.pool).spaces),
      agentPool: stack.agentPool,
      userStore: stack.userStore,
      logger: stack.logger,
    });
    const response = await rest(app, 'POST', '/spaces', {
      key: alice.apiKey,
      json: { label: 'x' },
      headers: { 'x-request-id': 'fault-1' },
    });
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ error: 'internal server error', code: 'INTERNAL' });
    const logged = stack.logs.find(
      (entry) => entry.event === 'http.error' && entry.fields.requestId === 'fault-1',
    );
    expect(logged?.level).toBe('error');
    expect(logged?.fields.error).toBeInstanceOf(Error);
  });
});
