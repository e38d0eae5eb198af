import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, type TestStack } from './__fixtures__/test-stack';
import { createApp } from './create-app';

describe('CORS', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await createTestStack();
  });
  afterAll(() => stack?.close());

  const preflight = (app: ReturnType<typeof createApp>, origin: string) =>
    app.request('/spaces', {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'x-api-key',
      },
    });

  it('is off by default: no browser origin is allowed', async () => {
    const response = await preflight(stack.app, 'https://app.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows the configured origins, with the API key header and the paging cursor', async () => {
    const app = createApp({
      spaceManager: stack.spaceManager,
      agentPool: stack.agentPool,
      userStore: stack.userStore,
      corsOrigins: ['https://app.example'],
    });
    const allowed = await preflight(app, 'https://app.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-api-key');
    const other = await preflight(app, 'https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const user = await stack.createUser('cors');
    const listed = await app.request('/spaces', {
      headers: { Origin: 'https://app.example', 'X-API-Key': user.apiKey },
    });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('access-control-expose-headers')).toContain('X-Next-Cursor');
  });
});
