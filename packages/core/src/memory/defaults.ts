import type { ConsolidateFn, IntegrateFn, LLMCallFn, Message } from '@stello-ai/session';
import { z } from 'zod';
import { CoreError } from '../errors';

/** Built-in prompt of the default consolidation (L3 → L2): a summary written for the main session. */
export const DEFAULT_CONSOLIDATE_PROMPT = `You maintain the memory of one conversation session.
Given the current summary (if any) and the newest messages of the session, write an updated summary
of 100 to 150 words for a coordinator who oversees many sessions: the topic, what the user wants,
the decisions, facts and results so far, and what is still open. Keep what still matters from the
current summary, drop what is obsolete. Reply with the summary text only, in the language of the
conversation, without preamble.`;

/** Built-in prompt of the default integration: a synthesis across sessions and one insight per session. */
export const DEFAULT_INTEGRATE_PROMPT = `You are the coordinator of several conversation sessions that belong to one user.
You receive your current synthesis (if any) and the latest summary of each session, each tagged with
its sessionId. Write:
1. "synthesis": an updated overview of everything the user is working on across the sessions, the
   links between them, and the overall progress.
2. "insights": short, actionable notes for the sessions that would benefit from something learned
   in another session (a dependency, a conflict, a useful result). At most one per session; leave
   out sessions that need none.
Reply with one JSON object and nothing else:
{"synthesis": "...", "insights": [{"sessionId": "<an exact sessionId from the input>", "content": "..."}]}`;

/** Newest transcript text the default consolidation sends; older turns live in the current summary. */
export const DEFAULT_TRANSCRIPT_BUDGET_CHARS = 48_000;

/**
 * Longest memory the default consolidation keeps (a longer reply is cut on a whole character). The
 * prompt asks for 150 words; the cap keeps a model that ignores it from growing every later
 * consolidation prompt and every turn prompt that shows the memory.
 */
export const DEFAULT_MEMORY_MAX_CHARS = 8_000;
/** Longest synthesis the default integration keeps, for the same reason. */
export const DEFAULT_SYNTHESIS_MAX_CHARS = 16_000;

/** Input budget of the default integration: the children's memories it sends, in characters. */
export const DEFAULT_INTEGRATION_BUDGET_CHARS = 48_000;
/** Longest part of one child's memory the default integration sends. */
export const DEFAULT_INTEGRATION_CHILD_CHARS = 2_000;

const THINK_BLOCK = /<think>[\s\S]*?<\/think>/gi;

const INTEGRATE_REPLY = z.object({
  synthesis: z.string(),
  insights: z.array(z.object({ sessionId: z.string(), content: z.string() })).default([]),
});

/**
 * Builds the default consolidation: the prompt as system message, the current summary and the
 * newest messages (up to {@link DEFAULT_TRANSCRIPT_BUDGET_CHARS}) as user message; the reply,
 * without `<think>` blocks, trimmed and cut at {@link DEFAULT_MEMORY_MAX_CHARS}, is the new memory.
 * The agent passes the turns since the last consolidation (the current summary covers the rest).
 *
 * @throws CoreError `INVALID_MODEL_REPLY` when the reply is empty (the memory is left unchanged).
 */
export function createDefaultConsolidateFn(prompt: string, llm: LLMCallFn): ConsolidateFn {
  return async (currentMemory, messages) => {
    const parts: string[] = [];
    const current = currentMemory?.trim();
    if (current) parts.push(`Current summary:\n${sliceWhole(current, DEFAULT_MEMORY_MAX_CHARS)}`);
    parts.push(`Newest messages:\n${transcript(messages, DEFAULT_TRANSCRIPT_BUDGET_CHARS)}`);
    const reply = await llm([
      { role: 'system', content: prompt },
      { role: 'user', content: parts.join('\n\n') },
    ]);
    const memory = stripThinking(reply);
    if (!memory) throw new CoreError('INVALID_MODEL_REPLY', 'the model returned an empty summary');
    return sliceWhole(memory, DEFAULT_MEMORY_MAX_CHARS);
  };
}

/**
 * One line per child (`- [sessionId=…] label: summary`), each summary cut at
 * {@link DEFAULT_INTEGRATION_CHILD_CHARS}, the whole within {@link DEFAULT_INTEGRATION_BUDGET_CHARS}:
 * a space of many children costs a bounded prompt, and the children left out are counted.
 */
export function integrationLines(
  children: readonly { sessionId: string; label: string; l2: string }[],
  budgetChars: number = DEFAULT_INTEGRATION_BUDGET_CHARS,
): string[] {
  const lines: string[] = [];
  let used = 0;
  for (const child of children) {
    const summary = child.l2.trim();
    const cut =
      summary.length > DEFAULT_INTEGRATION_CHILD_CHARS
        ? `${sliceWhole(summary, DEFAULT_INTEGRATION_CHILD_CHARS)}…`
        : summary;
    const line = `- [sessionId=${child.sessionId}] ${sliceWhole(oneLine(child.label), 200)}: ${cut}`;
    if (used + line.length > budgetChars) break;
    lines.push(line);
    used += line.length + 1;
  }
  const omitted = children.length - lines.length;
  if (omitted > 0) lines.push(`(${omitted} more sessions not shown: over the input budget)`);
  return lines;
}

/**
 * Builds the default integration: the prompt as system message; the current synthesis and one
 * line per child (`- [sessionId=…] label: summary`) as user message. The first JSON object of the
 * reply is parsed and validated (`{ synthesis: string, insights?: { sessionId, content }[] }`);
 * insights for ids that are not among `children`, and empty ones, are dropped.
 *
 * @throws CoreError `INVALID_MODEL_REPLY` when the reply holds no valid object (nothing is written).
 */
export function createDefaultIntegrateFn(prompt: string, llm: LLMCallFn): IntegrateFn {
  return async (children, currentSynthesis) => {
    const lines = integrationLines(children);
    const parts: string[] = [];
    const current = currentSynthesis?.trim();
    if (current) parts.push(`Current synthesis:\n${sliceWhole(current, DEFAULT_SYNTHESIS_MAX_CHARS)}`);
    parts.push(`Sessions:\n${lines.length > 0 ? lines.join('\n') : '(none)'}`);
    const reply = await llm([
      { role: 'system', content: prompt },
      { role: 'user', content: parts.join('\n\n') },
    ]);
    const json = firstJsonObject(stripThinking(reply));
    if (json === null) {
      throw new CoreError('INVALID_MODEL_REPLY', 'the integration reply holds no json object', {
        details: { reply: preview(reply) },
      });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(json);
    } catch (cause) {
      throw new CoreError('INVALID_MODEL_REPLY', 'the integration reply is not valid json', {
        cause,
        details: { reply: preview(reply) },
      });
    }
    const parsed = INTEGRATE_REPLY.safeParse(raw);
    if (!parsed.success) {
      throw new CoreError(
        'INVALID_MODEL_REPLY',
        `the integration reply is malformed: ${z.prettifyError(parsed.error)}`,
        {
          details: { reply: preview(reply) },
        },
      );
    }
    const known = new Set(children.map((child) => child.sessionId));
    const seen = new Set<string>();
    const insights = parsed.data.insights.filter((insight) => {
      const keep =
        known.has(insight.sessionId) && !seen.has(insight.sessionId) && insight.content.trim() !== '';
      if (keep) seen.add(insight.sessionId);
      return keep;
    });
    return { synthesis: sliceWhole(parsed.data.synthesis.trim(), DEFAULT_SYNTHESIS_MAX_CHARS), insights };
  };
}

/** Removes `<think>…</think>` blocks (reasoning models) and trims. */
export function stripThinking(text: string): string {
  return text.replace(THINK_BLOCK, '').trim();
}

/** `role: content` lines of the newest messages that fit in `budgetChars`; system records are left out. */
function transcript(messages: Message[], budgetChars: number): string {
  const lines: string[] = [];
  let used = 0;
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index] as Message;
    if (message.role === 'system') continue;
    const line = transcriptLine(message).slice(0, budgetChars);
    if (used + line.length > budgetChars && lines.length > 0) {
      lines.push('(older messages omitted)');
      break;
    }
    lines.push(line);
    used += line.length + 1;
  }
  return lines.reverse().join('\n');
}

function transcriptLine(message: Message): string {
  const calls = message.toolCalls?.length
    ? ` [calls: ${message.toolCalls.map((call) => `${call.name}(${JSON.stringify(call.input)})`).join(', ')}]`
    : '';
  return `${message.role}: ${message.content}${calls}`;
}

/** The first balanced `{…}` span, ignoring braces inside JSON strings; `null` when there is none. */
function firstJsonObject(text: string): string | null {
  const start = text.indexOf('{');
  if (start < 0) return null;
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let index = start; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (escaped) escaped = false;
      else if (char === '\\') escaped = true;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '{') depth += 1;
    else if (char === '}') {
      depth -= 1;
      if (depth === 0) return text.slice(start, index + 1);
    }
  }
  return null;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function preview(text: string): string {
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/** The first `length` UTF-16 units of `text`, one less when the cut would split a surrogate pair. */
function sliceWhole(text: string, length: number): string {
  if (text.length <= length) return text;
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}
