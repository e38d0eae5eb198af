import type { EngineForkOptions, StelloAgent, TurnRecord } from '@stello-ai/core';
import type { Logger } from '@stello-ai/runtime';
import type { Context, Hono } from 'hono';
import { admitSessions, admitTurn } from '../admission';
import { TransportError } from '../errors';
import { stringifyDeep } from '../json/stringify-deep';
import { admitKeyTurn } from '../middleware/rate-limit';
import type { SpaceEnv } from '../middleware/space-access';
import { runLoggedTurn } from '../turn-log';
import type { TransportDeps } from '../types';
import { forkOptions, messagesQuery, readJsonBody, turnBody, uuidParam, validate } from '../validation';
import {
  budgetedOlderRecords,
  budgetedRecords,
  budgetedSessions,
  DEFAULT_LIST_BYTES,
} from './budgeted-pages';
import { readSessionListQuery } from './session-list-query';
import { NEXT_CURSOR_HEADER, PREV_CURSOR_HEADER } from './spaces';
import { requestTurnId } from './turn-id';

/** A stored record as `GET …/messages` returns it; optional fields are absent when unset. */
export interface RecordView {
  /** The record's stable id (a decimal string): a paging cursor (`after`, `before`) and a fork point. */
  id?: string;
  role: TurnRecord['role'];
  content: string;
  timestamp: string;
  metadata?: Record<string, unknown>;
  toolCalls?: NonNullable<TurnRecord['toolCalls']>;
  toolCallId?: string;
}

/** Copies only the public fields of a record, so storage internals never reach the wire. */
export function toRecordView(record: TurnRecord): RecordView {
  const view: RecordView = {
    ...(record.id !== undefined && { id: record.id }),
    role: record.role,
    content: record.content,
    timestamp: record.timestamp,
  };
  if (record.metadata && Object.keys(record.metadata).length > 0) view.metadata = record.metadata;
  if (record.toolCalls && record.toolCalls.length > 0) view.toolCalls = record.toolCalls;
  if (record.toolCallId) view.toolCallId = record.toolCallId;
  return view;
}

/** Converts validated fork input to the agent's options (a `null` scope means none). */
export function toForkOptions(input: {
  label: string;
  scope?: string | null | undefined;
  systemPrompt?: string | undefined;
  context?: 'none' | 'inherit' | undefined;
  fromRecordId?: string | undefined;
}): EngineForkOptions {
  const options: EngineForkOptions = { label: input.label };
  if (input.scope != null) options.scope = input.scope;
  if (input.systemPrompt !== undefined) options.systemPrompt = input.systemPrompt;
  if (input.context !== undefined) options.context = input.context;
  if (input.fromRecordId !== undefined) options.fromRecordId = input.fromRecordId;
  return options;
}

function agentOf(c: Context<SpaceEnv>, deps: TransportDeps): Promise<StelloAgent> {
  return deps.agentPool.getAgent(c.get('space').id);
}

function notFound(sessionId: string): TransportError {
  return new TransportError('SESSION_NOT_FOUND', `session "${sessionId}" not found`);
}

/**
 * Registers the session routes on the space-scoped sub-app: list (flat or `?view=tree`), one
 * session, its messages (whole or paged), turn, fork and archive. Session lookups go through the
 * space's agent, so a session of another space is a 404.
 */
export function registerSessionRoutes(app: Hono<SpaceEnv>, deps: TransportDeps, logger: Logger): void {
  app.get('/sessions', async (c) => {
    const query = readSessionListQuery(c);
    const agent = await agentOf(c, deps);
    if (query.view === 'tree') {
      // A deep fork chain must not overflow JSON.stringify's native recursion.
      return c.body(stringifyDeep(await agent.sessions.getTree()), 200, {
        'Content-Type': 'application/json',
      });
    }
    // Without `limit`: every (matching) session, as the seeds do, up to the byte budget; the rest
    // is reachable through the next-page cursor.
    const page = await budgetedSessions(agent, query.filter, {
      limit: query.limit ?? Number.POSITIVE_INFINITY,
      after: query.after ?? null,
      budgetBytes: deps.limits?.listBytes ?? DEFAULT_LIST_BYTES,
    });
    if (page.nextCursor) c.header(NEXT_CURSOR_HEADER, page.nextCursor);
    return c.json(page.items);
  });

  app.get('/sessions/:id', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const info = await (await agentOf(c, deps)).sessions.getInfo(sessionId);
    if (!info) throw notFound(sessionId);
    return c.json(info);
  });

  app.get('/sessions/:id/messages', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const query = validate(messagesQuery, c.req.query(), 'query');
    const agent = await agentOf(c, deps);
    if (!(await agent.sessions.get(sessionId))) throw notFound(sessionId);
    const budgetBytes = deps.limits?.listBytes ?? DEFAULT_LIST_BYTES;
    if (query.before !== undefined) {
      // Backwards: the newest records older than the cursor, still oldest first.
      const older = await budgetedOlderRecords(agent, sessionId, toRecordView, {
        limit: query.limit ?? Number.POSITIVE_INFINITY,
        before: query.before,
        budgetBytes,
      });
      if (older.prevCursor) c.header(PREV_CURSOR_HEADER, older.prevCursor);
      return c.json(older.items);
    }
    // Without paging parameters: the whole history, as the seeds do, up to the byte budget; the
    // rest is reachable through the next-page cursor.
    const page = await budgetedRecords(agent, sessionId, toRecordView, {
      limit: query.limit ?? Number.POSITIVE_INFINITY,
      after: query.after ?? null,
      budgetBytes,
    });
    if (page.nextCursor) c.header(NEXT_CURSOR_HEADER, page.nextCursor);
    return c.json(page.items);
  });

  app.post('/sessions/:id/turn', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const body = await readJsonBody(c, turnBody);
    const turnId = requestTurnId(body.turnId, c.req.header('idempotency-key'));
    admitKeyTurn(deps.keyLimits, c.get('userId'), logger, {
      transport: 'rest',
      stream: false,
      requestId: c.get('requestId'),
    });
    const agent = await agentOf(c, deps);
    const release = await admitTurn(deps, c.get('userId'));
    try {
      // No existence check here: the agent's turn reads the session anyway and throws SESSION_NOT_FOUND.
      const result = await runLoggedTurn(
        logger,
        {
          transport: 'rest',
          requestId: c.get('requestId'),
          spaceId: c.get('space').id,
          sessionId,
          ...(deps.tracer && { tracer: deps.tracer, turnId }),
        },
        () =>
          agent.turn(sessionId, body.input, {
            ...(turnId !== undefined && { turnId }),
            ...(body.concurrency !== undefined && { concurrency: body.concurrency }),
          }),
      );
      return c.json(result);
    } finally {
      release();
    }
  });

  app.post('/sessions/:id/fork', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const body = await readJsonBody(c, forkOptions);
    const agent = await agentOf(c, deps);
    await admitSessions(deps, c.get('userId'));
    return c.json(await agent.forkSession(sessionId, toForkOptions(body)), 201);
  });

  app.post('/sessions/:id/archive', async (c) => {
    const sessionId = uuidParam(c, 'id');
    const agent = await agentOf(c, deps);
    const { sessionId: archivedId } = await agent.archiveSession(sessionId);
    const info = await agent.sessions.getInfo(archivedId);
    if (!info) throw notFound(sessionId);
    return c.json({ ...info, sessionId: archivedId });
  });
}
