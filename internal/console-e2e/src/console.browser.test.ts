import { createStelloClient, type StelloClient } from '@stello-ai/client';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleBrowser, openConsoleBrowser } from './console-browser';
import { ensureConsoleBuilt } from './console-build';
import {
  CLOCK_QUESTION,
  CLOCK_REPLY,
  type ConsoleStack,
  HELD_QUESTION,
  INSIGHT,
  SYNTHESIS,
  startConsoleStack,
} from './console-stack';

// The console in a real browser (Debian's chromium through playwright-core) against a real
// server: log in, create a space, a streamed reply with a tool call, a fork from a message, a
// change made by another client showing live, and the layout at 375 px. Any console error or
// uncaught exception in the page fails the test. Screenshots land in test-artifacts/.

const UI_WAIT_MS = 10_000;

/** `expect.poll` with the UI's wait (memory work calls the slow fake model: over a second). */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: UI_WAIT_MS });

describe('the web console in chromium', () => {
  let stack: ConsoleStack;
  let browser: ConsoleBrowser;
  let page: Page;
  let other: StelloClient;
  let spaceId: string;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    stack = await startConsoleStack();
    other = createStelloClient({ baseUrl: stack.baseUrl, apiKey: stack.apiKey });
    browser = await openConsoleBrowser();
    page = browser.page;
    page.setDefaultTimeout(UI_WAIT_MS);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  afterEach(() => {
    // Taken out, so one test's errors fail that test alone.
    expect(browser.errors.splice(0)).toEqual([]);
  });

  it('logs in with an API key kept in sessionStorage', async () => {
    await page.goto(`${stack.baseUrl}/console`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await browser.screenshot('01-login');
    await page.getByLabel('API key').fill(stack.apiKey);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Your spaces' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('stello.console.apiKey'))).toBe(stack.apiKey);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    // A reload keeps the tab logged in.
    await page.reload();
    await page.getByRole('heading', { name: 'Your spaces' }).waitFor();
  });

  it('creates a space and opens its tree with live events', async () => {
    await page.getByLabel('Label').fill('Trip to Lisbon');
    await page.getByRole('button', { name: 'Create space' }).click();
    const tree = page.getByTestId('session-tree');
    await tree.locator('li').first().waitFor();
    await page.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor();
    const spaces = await other.spaces.list();
    expect(spaces.items.map((space) => space.label)).toEqual(['Trip to Lisbon']);
    spaceId = spaces.items[0]!.id;
    expect(await tree.locator('li').count()).toBe(1);
    await poll(() => tree.locator('li').first().textContent()).toContain('0 turns');
  });

  it('streams a reply into the live region, with the tool call inline', async () => {
    await page.getByLabel(/^Message to/).fill(CLOCK_QUESTION);
    await page.getByRole('button', { name: 'Send' }).click();
    const reply = page.getByTestId('streaming-reply');
    // The reply is seen while it is still streaming: busy, partial, with the tool call shown.
    // Polled from here (the page's CSP allows no eval); the string runs in the page, since this
    // file is compiled without the DOM's types.
    const readReply = () =>
      page.evaluate<[string | null, string]>(`(() => {
        const region = document.querySelector('[data-testid="streaming-reply"]');
        return [region?.getAttribute('aria-busy') ?? null, region?.querySelector('.content')?.textContent ?? ''];
      })()`);
    await expect
      .poll(readReply, { timeout: UI_WAIT_MS, interval: 20 })
      .toSatisfy(([busy, text]) => busy === 'true' && text.length > 0 && text !== CLOCK_REPLY);
    expect(await reply.getAttribute('aria-live')).toBe('polite');
    expect(await reply.getByTestId('tool-call').textContent()).toContain('clock');
    await browser.screenshot('02-streaming');
    // Once stored, the turn is in the history: the tool call inline, and the final answer.
    const messages = page.getByTestId('messages');
    await messages.getByText(CLOCK_REPLY).waitFor();
    expect(await messages.getByTestId('tool-call').first().textContent()).toContain('clock');
    await poll(() => page.getByTestId('session-tree').textContent()).toContain('1 turn');
  });

  it('stops a running turn from the composer, and nothing of it is stored', async () => {
    const root = await other.sessions.tree({ spaceId });
    const before = (await other.sessions.messages({ spaceId, sessionId: root.id })).items;
    await page.getByLabel(/^Message to/).fill(HELD_QUESTION);
    await page.getByRole('button', { name: 'Send' }).click();
    // The model has the question and holds its answer: the turn is running.
    const heldRequest = () =>
      stack.fake.requests.findIndex((request) => request.body.messages.at(-1)?.content === HELD_QUESTION);
    await poll(heldRequest).toBeGreaterThanOrEqual(0);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByText('Cancelled: nothing of this turn was stored.').waitFor();
    // Stopping is not an error, and the composer is back.
    expect(await page.getByRole('alert').count()).toBe(0);
    await poll(() => page.getByRole('button', { name: 'Stop' }).count()).toBe(0);
    expect(await stack.fake.waitForOutcome(heldRequest())).toBe('aborted');
    await browser.screenshot('02b-stopped');
    const after = (await other.sessions.messages({ spaceId, sessionId: root.id })).items;
    expect(after.map((record) => record.id)).toEqual(before.map((record) => record.id));
    expect((await other.sessions.tree({ spaceId })).turnCount).toBe(1);
    stack.releaseHeldReplies();
  });

  it('forks from a message and selects the new session with the history up to it', async () => {
    const userMessage = page.getByTestId('messages').locator('li.message.user').first();
    await userMessage.getByRole('button', { name: 'Fork from this message' }).click();
    await page.getByLabel('New session label').fill('Only the question');
    await page.getByRole('button', { name: 'Fork', exact: true }).click();
    await page.getByRole('heading', { name: 'Only the question' }).waitFor();
    const tree = page.getByTestId('session-tree');
    await poll(() => tree.locator('li').count()).toBe(2);
    const messages = page.getByTestId('messages');
    await messages.getByText('What time is it?').waitFor();
    expect(await messages.getByText(CLOCK_REPLY).count()).toBe(0);
    // The server agrees: a child of the root, from that record.
    const sessions = await other.sessions.list({ spaceId });
    const child = sessions.find((session) => session.label === 'Only the question');
    expect(child?.parentId).toBe(sessions.find((session) => session.depth === 0)?.id);
    await browser.screenshot('03-forked');
  });

  it('shows a change another client makes in the space, live', async () => {
    const root = (await other.sessions.tree({ spaceId })).id;
    await other.sessions.fork({ spaceId, sessionId: root }, { label: 'Made by another client' });
    const tree = page.getByTestId('session-tree');
    await tree.getByText('Made by another client').waitFor();
    await page.getByText('Live: session forked').first().waitFor({ state: 'attached' });
    // A turn another client runs in the open session shows there too.
    const open = (await other.sessions.list({ spaceId })).find((s) => s.label === 'Only the question')!;
    await other.turns.send({ spaceId, sessionId: open.id, input: 'hello from elsewhere' });
    await page.getByTestId('messages').getByText('hello from elsewhere').first().waitFor();
    await browser.screenshot('04-live-update');
  });

  it('collapses the tree, greys archived sessions, and is operable by keyboard', async () => {
    const elsewhere = (await other.sessions.list({ spaceId })).find(
      (s) => s.label === 'Made by another client',
    )!;
    await other.sessions.archive({ spaceId, sessionId: elsewhere.id });
    const archivedRow = page.locator('.tree-row.archived');
    await archivedRow.filter({ hasText: 'Made by another client' }).waitFor();
    expect(await archivedRow.textContent()).toContain('archived');
    // Fold the root with the keyboard: focus its fold button, press Enter.
    const fold = page.getByRole('button', { name: /^Collapse / });
    await fold.focus();
    await page.keyboard.press('Enter');
    await poll(() => page.getByTestId('session-tree').locator('li').count()).toBe(1);
    await page.getByRole('button', { name: /^Expand / }).press('Enter');
    await poll(() => page.getByTestId('session-tree').locator('li').count()).toBe(3);
    // Landmarks a screen reader lists.
    expect(await page.getByRole('navigation', { name: 'Session tree' }).count()).toBe(1);
    expect(await page.getByRole('main').count()).toBe(1);
  });

  it('moves through the tree with the arrow keys, Home and End, and Tab leaves it in one step', async () => {
    const tree = page.getByTestId('session-tree');
    const labels = tree.locator('.tree-label');
    await poll(() => labels.count()).toBe(3);
    // The name of the row that has the focus (run in the page: this file has no DOM types).
    const focused = () =>
      page.evaluate<string | null>(
        `document.activeElement?.closest('.tree-row')?.querySelector('.tree-name')?.textContent ?? null`,
      );
    expect(await tree.locator('.tree-label[tabindex="0"]').count()).toBe(1);
    await labels.first().focus();
    expect(await focused()).toBe('Trip to Lisbon');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('Only the question');
    await page.keyboard.press('End');
    expect(await focused()).toBe('Made by another client');
    await page.keyboard.press('ArrowLeft');
    expect(await focused()).toBe('Trip to Lisbon');
    // On the root: ArrowLeft folds it, ArrowRight unfolds it, then enters its first child.
    await page.keyboard.press('ArrowLeft');
    await poll(() => labels.count()).toBe(1);
    await page.keyboard.press('ArrowRight');
    await poll(() => labels.count()).toBe(3);
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe('Only the question');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Only the question' }).waitFor();
    // One tab stop in the tree: the row last focused.
    expect(await tree.locator('.tree-label[tabindex="0"]').textContent()).toContain('Only the question');
    await page.keyboard.press('Tab');
    expect(await focused()).toBeNull();
  });

  it('edits a prompt and shows memory and the root synthesis', async () => {
    await page.getByRole('tab', { name: 'Prompts' }).click();
    const prompt = page.getByLabel('System prompt', { exact: true });
    await poll(() => prompt.isEnabled()).toBe(true);
    await prompt.fill('You answer in one sentence.');
    await page.getByRole('button', { name: 'Save system prompt' }).click();
    await page.getByText('Saved.').waitFor();
    const open = (await other.sessions.list({ spaceId })).find((s) => s.label === 'Only the question')!;
    expect(await other.sessions.getSlot({ spaceId, sessionId: open.id, slot: 'system-prompt' })).toBe(
      'You answer in one sentence.',
    );
    // The space's default prompts, on the same tab.
    await page.getByLabel('Default integrate prompt').fill('Integrate briefly.');
    await page.getByRole('button', { name: 'Save space defaults' }).click();
    await poll(async () => (await other.spaces.get({ spaceId })).integratePrompt).toBe('Integrate briefly.');
    // The child's memory, written by a consolidation run from the page.
    await page.getByRole('tab', { name: 'Memory' }).click();
    const memory = page.getByTestId('memory');
    await poll(() => memory.textContent()).toBe('Nothing yet.');
    await poll(() => page.getByTestId('insight').textContent()).toBe('None pending.');
    await page.getByRole('button', { name: 'Consolidate now' }).click();
    const stored = () => other.sessions.getSlot({ spaceId, sessionId: open.id, slot: 'memory' });
    await poll(stored).not.toBeNull();
    await poll(() => memory.textContent()).toBe(await stored());
    // The root's synthesis, written by an integration run from the page.
    await page
      .getByTestId('session-tree')
      .getByRole('button', { name: /^Trip to Lisbon/ })
      .click();
    await page.getByRole('tab', { name: 'Memory' }).click();
    await page.getByRole('button', { name: 'Integrate the space now' }).click();
    await poll(() => page.getByTestId('synthesis').textContent()).toBe(SYNTHESIS);
    // …and the insight it sent the child shows there.
    await page
      .getByTestId('session-tree')
      .getByRole('button', { name: /^Only the question/ })
      .click();
    await page.getByRole('tab', { name: 'Memory' }).click();
    await poll(() => page.getByTestId('insight').textContent()).toBe(INSIGHT);
    await browser.screenshot('05-memory');
  });

  it('fits a 375 px wide screen with no horizontal scroll', async () => {
    // The root, with its tool call, at desktop width first (the README's screenshot).
    await page
      .getByTestId('session-tree')
      .getByRole('button', { name: /^Trip to Lisbon/ })
      .click();
    await page.getByRole('tab', { name: 'Chat' }).click();
    await page.getByTestId('messages').getByText(CLOCK_REPLY).waitFor();
    await browser.screenshot('06-overview');
    await page.setViewportSize({ width: 375, height: 800 });
    await page.getByRole('tab', { name: 'Chat' }).click();
    await page.getByTestId('messages').getByText('What time is it?').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await browser.screenshot('07-mobile-375');
  });

  it('archives a session from its header, after asking', async () => {
    await page
      .getByTestId('session-tree')
      .getByRole('button', { name: /^Only the question/ })
      .click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    await page.locator('.tree-row.archived').filter({ hasText: 'Only the question' }).waitFor();
    await poll(() => page.getByLabel(/^Message to/).isDisabled()).toBe(true);
    const open = (await other.sessions.list({ spaceId })).find((s) => s.label === 'Only the question')!;
    expect(open.status).toBe('archived');
  });
});
