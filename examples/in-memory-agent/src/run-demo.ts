import { createInMemoryStores, createStelloAgent, type SessionTreeNode, tool } from '@stello-ai/core';
import { createOfflineAdapter } from '@stello-ai/session';
import { z } from 'zod';

/** What the demo did, for the caller (and the test) to inspect. */
export interface DemoResult {
  rootId: string;
  childId: string;
  /** The reply of the first, plain turn. */
  greeting: string | null;
  /** The tool turn: how many tool calls ran and the final answer. */
  toolTurn: { toolCallsExecuted: number; finalContent: string | null };
  /** What the weather tool was called with. */
  toolCalls: Array<{ city: string }>;
  /** The streamed chunks of the turn in the forked session, and its stored result. */
  streamed: { chunks: string[]; finalContent: string | null };
  tree: SessionTreeNode;
}

/**
 * Runs a StelloAgent entirely in memory on the offline model (no key, no network, no database):
 * a turn, a turn that calls a tool, a fork, and a streamed turn in the fork.
 */
export async function runDemo(print: (line: string) => void): Promise<DemoResult> {
  const toolCalls: Array<{ city: string }> = [];
  const getWeather = tool('get_weather', 'Current weather of a city', { city: z.string() }, ({ city }) => {
    toolCalls.push({ city });
    return { city, forecast: 'sunny', celsius: 21 };
  });

  const agent = createStelloAgent({
    ...createInMemoryStores(),
    llm: createOfflineAdapter(),
    capabilities: { tools: [getWeather] },
  });
  try {
    const root = await agent.createRoot('Trip planning');

    const hello = await agent.turn(root.id, 'Hello! I am planning a trip to Lisbon.');
    print(`root  > ${hello.turn.finalContent}`);

    // The offline model calls a tool when the message carries a [[tool:NAME {...}]] directive.
    const weather = await agent.turn(
      root.id,
      'What is the weather there? [[tool:get_weather {"city":"Lisbon"}]]',
    );
    print(`root  > (${weather.turn.toolCallsExecuted} tool call) ${weather.turn.finalContent}`);

    const child = await agent.forkSession(root.id, { label: 'Food', scope: 'restaurants' });
    print(`forked "${child.label}" (depth ${child.depth}) from the root`);

    const stream = agent.stream(child.id, 'Where should I eat tonight?');
    const chunks: string[] = [];
    let line = 'food  > ';
    for await (const chunk of stream) {
      chunks.push(chunk);
      line += chunk;
    }
    print(line);
    const streamed = await stream.result;

    const tree = await agent.getTree();
    print(`tree: ${tree.label} -> [${tree.children.map((node) => node.label).join(', ')}]`);
    await agent.idle();
    return {
      rootId: root.id,
      childId: child.id,
      greeting: hello.turn.finalContent,
      toolTurn: {
        toolCallsExecuted: weather.turn.toolCallsExecuted,
        finalContent: weather.turn.finalContent,
      },
      toolCalls,
      streamed: { chunks, finalContent: streamed.turn.finalContent },
      tree,
    };
  } finally {
    agent.dispose();
  }
}
