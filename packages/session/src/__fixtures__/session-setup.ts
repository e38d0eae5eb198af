import { expect } from 'vitest';
import { isCodedError } from '../errors';
import { InMemoryStorageAdapter } from '../in-memory/in-memory-storage';
import type { LLMAdapter } from '../llm/llm';
import { createMainSession } from '../sessions/main-session';
import { createSession } from '../sessions/session';
import type { Message } from '../types';

/** A main session and a child with system prompts, over in-memory storage. */
export async function setup(llm?: LLMAdapter, options: { maxHistoryRecords?: number } = {}) {
  const storage = new InMemoryStorageAdapter();
  const main = await createMainSession({ storage, label: 'Space', systemPrompt: 'root prompt' });
  const child = await createSession({
    storage,
    parentId: main.id,
    label: 'Child',
    systemPrompt: 'child prompt',
    ...(llm ? { llm } : {}),
    ...(options.maxHistoryRecords ? { context: { maxHistoryRecords: options.maxHistoryRecords } } : {}),
  });
  return { storage, main, child };
}

export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error, `expected a rejection with ${code}`).not.toBeNull();
  expect(isCodedError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
}

export function expectSyncCode(fn: () => unknown, code: string): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(isCodedError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
}

export const strip = (records: Message[]) => records.map(({ role, content }) => ({ role, content }));
