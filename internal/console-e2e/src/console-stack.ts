import {
  createTestDatabase,
  type FakeLLMServer,
  startFakeOpenAI,
  type TestDatabase,
} from '@internal/testing';
import { tool } from '@stello-ai/core';
import { createStelloServer, type ListeningServer } from '@stello-ai/server';
import { createOpenAICompatibleAdapter } from '@stello-ai/session';

// A real Stello server for the browser tests: a fresh test database, the console on, and a fake
// OpenAI-compatible model that streams its replies in slow pieces (so a test can see a reply
// grow) and calls the `clock` tool when asked the time.

/** The question the model answers with a call of the clock tool. */
export const CLOCK_QUESTION = 'What time is it?';
/** What the model answers once the clock tool has run. */
export const CLOCK_REPLY = 'The clock tool says it is noon.';

/** A question the model holds its answer to until the test releases it: a turn a test can stop. */
export const HELD_QUESTION = 'Take your time with this one.';

/** The root's synthesis the model writes when asked to integrate. */
export const SYNTHESIS = 'Lisbon: the traveller asked the time; it is noon.';
/** The insight the model sends each child when it integrates. */
export const INSIGHT = 'The root knows it is noon.';

/** The integration's answer: the synthesis and one insight per child named in its input. */
function integrationReply(input: string): string {
  const children = [...input.matchAll(/\[sessionId=([^\]]+)\]/g)].map((match) => match[1]);
  return JSON.stringify({
    synthesis: SYNTHESIS,
    insights: children.map((sessionId) => ({ sessionId, content: INSIGHT })),
  });
}

/** A running server with a user's key. */
export interface ConsoleStack {
  baseUrl: string;
  apiKey: string;
  fake: FakeLLMServer;
  /** Lets the model answer the requests it holds (those ending with {@link HELD_QUESTION}). */
  releaseHeldReplies(): void;
  close(): Promise<void>;
}

/** Starts the database, the fake model and the server (port 0). */
export async function startConsoleStack(): Promise<ConsoleStack> {
  const db: TestDatabase = await createTestDatabase();
  let releaseHeld = () => {};
  const held = new Promise<void>((resolve) => {
    releaseHeld = resolve;
  });
  const fake = await startFakeOpenAI({
    chunkCount: 8,
    chunkDelayMs: 120,
    script: async (request) => {
      const messages = request.body.messages as Array<{ role: string; content?: string | null }>;
      const last = messages.at(-1);
      if (last?.role === 'user' && last.content === HELD_QUESTION) {
        await held;
        return {};
      }
      if (last?.role === 'tool') return { content: CLOCK_REPLY };
      // The default integration lists the children under "Sessions:" and wants JSON back.
      if (last?.role === 'user' && last.content?.includes('Sessions:\n')) {
        return { content: integrationReply(last.content) };
      }
      // Exactly the question: a consolidation quotes it, and must get text, not a tool call.
      if (last?.role === 'user' && last.content === CLOCK_QUESTION) {
        return { content: null, toolCalls: [{ name: 'clock', input: {} }] };
      }
      return {};
    },
  });
  const clock = tool('clock', 'Tells the time.', {}, () => 'noon');
  const server = await createStelloServer({
    pool: db.pool,
    console: true,
    agentPoolOptions: {
      model: createOpenAICompatibleAdapter({
        baseURL: fake.baseURL,
        apiKey: 'test-key-0123456789abcdefghijklmnop',
        model: 'gpt-4o-mini',
        maxRetries: 0,
      }),
      buildConfig: () => ({ capabilities: { tools: [clock] } }),
    },
  });
  const { apiKey } = await server.userStore.createUser('console-e2e');
  const listening: ListeningServer = await server.listen(0);
  return {
    baseUrl: `http://127.0.0.1:${listening.port}`,
    apiKey,
    fake,
    releaseHeldReplies: releaseHeld,
    async close() {
      releaseHeld();
      await listening.close();
      await fake.close();
      await db.drop();
    },
  };
}
