import { callTool, lastMessage } from '@internal/testing/scripted-llm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { setup } from '../__fixtures__/agent-setup';
import { tool } from '../tools/tools';

// A fork from an earlier message: the child's history ends at the chosen record, with the tool-call
// group it belongs to kept whole.

const weather = tool('weather', 'the weather', { city: z.string() }, ({ city }) => `sunny in ${city}`);

// The first turn calls a tool, the others answer plainly.
async function spaceWithHistory() {
  const s = await setup(
    (call) => {
      const last = lastMessage(call);
      if (last.role === 'user' && last.content === 'weather?') {
        return { content: '', toolCalls: [callTool('c1', 'weather', { city: 'Oslo' })] };
      }
      if (last.role === 'tool') return { content: 'It is sunny.' };
      return { content: `re: ${last.content}` };
    },
    { capabilities: { tools: [weather] } },
  );
  const parent = (await s.agent.forkSession(s.root.id, { label: 'parent' })).id;
  for (const input of ['weather?', 'second', 'third']) await s.agent.turn(parent, input);
  const { records } = await s.agent.memory.readRecordPage(parent, { limit: 100 });
  return { ...s, parent, records };
}

describe('forkSession({ fromRecordId })', () => {
  it('copies the history up to and including the chosen record', async () => {
    const { agent, parent, records } = await spaceWithHistory();
    const reply = records.find((record) => record.content === 're: second');
    const child = await agent.forkSession(parent, { label: 'branch', fromRecordId: reply!.id! });
    const { records: copied } = await agent.memory.readRecordPage(child.id, { limit: 100 });
    expect(copied.map((record) => [record.role, record.content])).toEqual(
      records.slice(0, records.indexOf(reply!) + 1).map((record) => [record.role, record.content]),
    );
  });

  it('keeps the tool-call group of the chosen record whole', async () => {
    const { agent, parent, records } = await spaceWithHistory();
    const calling = records.find((record) => record.role === 'assistant' && record.toolCalls?.length);
    const child = await agent.forkSession(parent, { label: 'from the call', fromRecordId: calling!.id! });
    const { records: copied } = await agent.memory.readRecordPage(child.id, { limit: 100 });
    expect(copied.map((record) => record.role)).toEqual(['user', 'assistant', 'tool']);
    expect(copied[2]).toMatchObject({ toolCallId: 'c1', content: 'sunny in Oslo' });
  });

  it('refuses a record of another session with RECORD_NOT_FOUND, writing nothing', async () => {
    const { agent, root, parent, records } = await spaceWithHistory();
    const before = (await agent.sessions.listInfo()).length;
    const error = await agent
      .forkSession(root.id, { label: 'x', fromRecordId: records[0]!.id! })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'RECORD_NOT_FOUND' });
    await expect(agent.forkSession(parent, { label: 'y', fromRecordId: 'abc' })).rejects.toMatchObject({
      code: 'RECORD_NOT_FOUND',
    });
    expect((await agent.sessions.listInfo()).length).toBe(before);
  });
});
