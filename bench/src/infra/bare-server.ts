/**
 * The bare reference server of the bench: the same API shape as Stello Server (the routes and
 * frames the bench load uses) in a page of code — Hono + @hono/node-server + ws, spaces, sessions
 * and records in plain Maps, the full history in every prompt, no agent engine, no project
 * package. It calls the fake LLM through the `openai` SDK with `maxRetries: 0`, as the real server's
 * adapter does, so the LLM client costs the same on both.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import OpenAI from 'openai';
import { WebSocketServer } from 'ws';

/** Where the bare server finds its two fake models. */
export interface BareServerOptions {
  zeroBaseURL: string;
  realisticBaseURL: string;
}

/** A running bare server. */
export interface BareServer {
  port: number;
  /** A new user; returns its API key (only its hash is kept). */
  createUser(name: string): string;
  /** Appends `turns` seeded user/assistant pairs to a session. */
  seed(spaceId: string, sessionId: string, turns: number): void;
  close(): Promise<void>;
}

type Message = { role: 'user' | 'assistant'; content: string };
interface BareSession {
  id: string;
  parentId: string | null;
  label: string;
  createdAt: string;
  children: string[];
  records: (Message & { id: string })[];
}
interface BareSpace {
  id: string;
  ownerHash: string;
  label: string;
  systemPrompt: string;
  config: Record<string, unknown>;
  sessions: Map<string, BareSession>;
}

const hashKey = (apiKey: string) => createHash('sha256').update(apiKey).digest('hex');

function newSession(parentId: string | null, label: string): BareSession {
  return {
    id: randomUUID(),
    parentId,
    label,
    createdAt: new Date().toISOString(),
    children: [],
    records: [],
  };
}

const info = ({ id, parentId, label, createdAt }: BareSession) => ({ id, parentId, label, createdAt });

/** Starts the bare server on 127.0.0.1 and a free port. */
export async function startBareServer(options: BareServerOptions): Promise<BareServer> {
  const users = new Map<string, string>(); // key hash → user name
  const spaces = new Map<string, BareSpace>();
  const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0 });
  const zero = client(options.zeroBaseURL);
  const realistic = client(options.realisticBaseURL);

  const spaceOf = (apiKey: string | undefined, spaceId: string) => {
    const space = spaces.get(spaceId);
    return space && apiKey !== undefined && space.ownerHash === hashKey(apiKey) ? space : undefined;
  };
  /** Runs one turn with the whole history in the prompt; `onDelta` gets each streamed chunk. */
  async function turn(space: BareSpace, session: BareSession, input: string, onDelta?: (d: string) => void) {
    const llm = space.config.benchModel === 'realistic' ? realistic : zero;
    const messages = [
      { role: 'system' as const, content: space.systemPrompt },
      ...session.records.map(({ role, content }) => ({ role, content })),
      { role: 'user' as const, content: input },
    ];
    let finalContent = '';
    const stream = await llm.chat.completions.create({ model: 'fake', messages, stream: true });
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content ?? '';
      if (delta === '') continue;
      finalContent += delta;
      onDelta?.(delta);
    }
    session.records.push({ id: randomUUID(), role: 'user', content: input });
    session.records.push({ id: randomUUID(), role: 'assistant', content: finalContent });
    return { finalContent };
  }

  const app = new Hono<{ Variables: { space: BareSpace } }>();
  app.post('/spaces', async (c) => {
    const apiKey = c.req.header('x-api-key');
    if (apiKey === undefined || !users.has(hashKey(apiKey))) return c.json({ code: 'unauthorized' }, 401);
    const body = await c.req.json<{
      label: string;
      systemPrompt?: string;
      config?: Record<string, unknown>;
    }>();
    const root = newSession(null, 'root');
    const space: BareSpace = {
      id: randomUUID(),
      ownerHash: hashKey(apiKey),
      label: body.label,
      systemPrompt: body.systemPrompt ?? '',
      config: body.config ?? {},
      sessions: new Map([[root.id, root]]),
    };
    spaces.set(space.id, space);
    return c.json({ id: space.id, label: space.label, config: space.config }, 201);
  });
  app.use('/spaces/:spaceId/*', async (c, next) => {
    const space = spaceOf(c.req.header('x-api-key'), c.req.param('spaceId'));
    if (!space) return c.json({ code: 'not_found' }, 404);
    c.set('space', space);
    return next();
  });
  app.get('/spaces/:spaceId/sessions', (c) => {
    const { sessions } = c.get('space');
    if (c.req.query('view') !== 'tree') return c.json([...sessions.values()].map(info));
    const tree = (node: BareSession): object => ({
      ...info(node),
      children: node.children.map((id) => tree(sessions.get(id) as BareSession)),
    });
    const root = [...sessions.values()].find((session) => session.parentId === null) as BareSession;
    return c.json(tree(root));
  });
  app.get('/spaces/:spaceId/sessions/:sessionId', (c) => {
    const session = c.get('space').sessions.get(c.req.param('sessionId'));
    return session ? c.json(info(session)) : c.json({ code: 'not_found' }, 404);
  });
  app.post('/spaces/:spaceId/sessions/:sessionId/fork', async (c) => {
    const { sessions } = c.get('space');
    const parent = sessions.get(c.req.param('sessionId'));
    if (!parent) return c.json({ code: 'not_found' }, 404);
    const child = newSession(parent.id, (await c.req.json<{ label: string }>()).label);
    sessions.set(child.id, child);
    parent.children.push(child.id);
    return c.json(info(child), 201);
  });
  app.post('/spaces/:spaceId/sessions/:sessionId/turn', async (c) => {
    const space = c.get('space');
    const session = space.sessions.get(c.req.param('sessionId'));
    if (!session) return c.json({ code: 'not_found' }, 404);
    const { input } = await c.req.json<{ input: string }>();
    return c.json({ turn: await turn(space, session, input) });
  });
  app.get('/spaces/:spaceId/sessions/:sessionId/messages', (c) => {
    const session = c.get('space').sessions.get(c.req.param('sessionId'));
    if (!session) return c.json({ code: 'not_found' }, 404);
    const limit = Number(c.req.query('limit') ?? 50);
    const after = c.req.query('after');
    const start = after === undefined ? 0 : session.records.findIndex((record) => record.id === after) + 1;
    const page = session.records.slice(start, start + limit);
    if (start + limit < session.records.length) c.header('x-next-cursor', page.at(-1)?.id ?? '');
    return c.json(page);
  });

  const httpServer = createAdaptorServer({ fetch: app.fetch }) as Server;
  const wss = new WebSocketServer({ noServer: true });
  httpServer.on('upgrade', (request: IncomingMessage, socket, head) => {
    const spaceId = /^\/spaces\/([^/]+)\/ws$/.exec(request.url ?? '')?.[1] ?? '';
    const space = spaceOf(request.headers['x-api-key'] as string | undefined, spaceId);
    if (!space) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      let session: BareSession | undefined;
      const send = (frame: object) => ws.send(JSON.stringify(frame));
      ws.on('message', async (data) => {
        const message = JSON.parse(data.toString()) as { type: string; sessionId?: string; input?: string };
        if (message.type === 'session.enter') {
          session = space.sessions.get(message.sessionId ?? '');
          send(
            session
              ? { type: 'session.entered', sessionId: session.id }
              : { type: 'error', code: 'not_found' },
          );
          return;
        }
        const current = session;
        if (!current) {
          send({ type: 'error', code: 'no_session' });
          return;
        }
        try {
          if (message.type === 'session.stream') {
            const result = await turn(space, current, message.input ?? '', (delta) =>
              send({ type: 'stream.delta', delta }),
            );
            send({ type: 'stream.end', ...result });
          } else if (message.type === 'session.message') {
            send({ type: 'turn.complete', turn: await turn(space, current, message.input ?? '') });
          }
        } catch (error) {
          // A failed LLM call is an error frame, never an unhandled rejection of the server.
          send({ type: 'error', code: 'llm_failed', message: String(error) });
        }
      });
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', () => {
      const address = httpServer.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });

  return {
    port,
    createUser(name) {
      const apiKey = randomBytes(24).toString('hex');
      users.set(hashKey(apiKey), name);
      return apiKey;
    },
    seed(spaceId, sessionId, turns) {
      const session = spaces.get(spaceId)?.sessions.get(sessionId);
      if (!session) throw new Error(`no session ${sessionId} in space ${spaceId}`);
      for (let index = 0; index < turns; index += 1) {
        session.records.push({ id: randomUUID(), role: 'user', content: `Seeded question ${index}` });
        session.records.push({ id: randomUUID(), role: 'assistant', content: `Seeded answer ${index}` });
      }
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
