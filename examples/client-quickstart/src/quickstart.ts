import { createStelloClient, type SessionTreeNode } from '@stello-ai/client';

/** What one run of the quick start did. */
export interface QuickstartResult {
  spaceId: string;
  rootId: string;
  /** The streamed reply, as its deltas arrived. */
  deltas: string[];
  /** The stored reply of the streamed turn. */
  reply: string;
  childId: string;
  /** The child's reply (a plain REST turn). */
  childReply: string;
  tree: SessionTreeNode;
}

/**
 * The client's tour on a running server: create a space, stream a reply in its root session, fork
 * a sub-topic and talk there, then read the session tree. `print` gets one line per step.
 */
export async function runQuickstart(options: {
  baseUrl: string;
  apiKey: string;
  print?: (line: string) => void;
}): Promise<QuickstartResult> {
  const print = options.print ?? (() => {});
  const client = createStelloClient({ baseUrl: options.baseUrl, apiKey: options.apiKey });

  const space = await client.spaces.create({
    label: 'Trip to Lisbon',
    systemPrompt: 'You are a travel guide.',
  });
  const [root] = await client.sessions.list({ spaceId: space.id });
  if (!root) throw new Error('a new space has its root session');
  print(`space ${space.id}, root session ${root.id}`);

  const stream = client.sessions.stream({ spaceId: space.id, sessionId: root.id, input: 'Plan three days.' });
  const deltas: string[] = [];
  for await (const frame of stream) {
    if (frame.type === 'stream.delta') deltas.push(frame.chunk);
  }
  const { turn } = await stream.result;
  print(`root  > ${turn.finalContent}`);

  const child = await client.sessions.fork(
    { spaceId: space.id, sessionId: root.id },
    { label: 'Food', scope: 'restaurants' },
  );
  const answer = await client.turns.send({ spaceId: space.id, sessionId: child.id, input: 'Where to eat?' });
  print(`food  > ${answer.turn.finalContent}`);

  const tree = await client.sessions.tree({ spaceId: space.id });
  print(`tree: ${tree.label} → ${tree.children.map((node) => node.label).join(', ')}`);
  return {
    spaceId: space.id,
    rootId: root.id,
    deltas,
    reply: turn.finalContent ?? '',
    childId: child.id,
    childReply: answer.turn.finalContent ?? '',
    tree,
  };
}
