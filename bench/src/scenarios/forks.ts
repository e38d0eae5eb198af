import type { SessionInfo } from '@stello-ai/core';
import { runBatch, runClosedLoop } from '../load/run-load';
import { measure, measureRow } from './_measure';
import { type BenchSpace, prepareSpaces } from './_setup';
import type { ResultRow, Scenario, ServerTarget } from './types';

/** Forks `parentId` through REST and returns the child's id. */
export async function fork(
  target: ServerTarget,
  spaceId: string,
  parentId: string,
  label: string,
): Promise<string> {
  const response = await target.rest.expect<SessionInfo>(
    201,
    'POST',
    `/spaces/${spaceId}/sessions/${parentId}/fork`,
    target.apiKey,
    { label },
  );
  return response.body.id;
}

/** Reads the nested tree of a space and checks its size. */
export async function readTree(target: ServerTarget, spaceId: string, expectedNodes: number): Promise<void> {
  const response = await target.rest.expect<{ children: unknown[] }>(
    200,
    'GET',
    `/spaces/${spaceId}/sessions?view=tree`,
    target.apiKey,
  );
  const nodes = countNodes(response.body);
  if (nodes !== expectedNodes) throw new Error(`tree has ${nodes} nodes, expected ${expectedNodes}`);
}

function countNodes(node: { children: unknown[] }): number {
  return (
    1 + node.children.reduce<number>((sum, child) => sum + countNodes(child as { children: unknown[] }), 0)
  );
}

/** Fork bursts (wide: every client forks one parent; deep: a chain) and reads of the resulting tree. */
export const forksScenario: Scenario = {
  name: 'forks',
  description: 'a wide fork burst under one root, a deep fork chain, then nested-tree reads of the wide tree',
  async run({ sizes, targets }) {
    const { clients, wideForks, deepForks } = sizes;
    const wide = new Map<ServerTarget, BenchSpace>();
    const rows: ResultRow[] = [];
    rows.push(
      await measureRow(
        targets,
        {
          id: 'forks.wide',
          scenario: 'forks',
          label: `fork burst, wide: ${wideForks} children of one root, ${clients} at once`,
        },
        async (target) => {
          const [space] = await prepareSpaces(target, 1, 'fork-wide');
          wide.set(target, space!);
          return measure(target, (hooks) =>
            runBatch({
              ...hooks,
              count: wideForks,
              concurrency: clients,
              op: async (index) => {
                await fork(target, space!.spaceId, space!.rootId, `child ${index}`);
                return undefined;
              },
            }),
          );
        },
      ),
    );
    rows.push(
      await measureRow(
        targets,
        { id: 'forks.deep', scenario: 'forks', label: `fork burst, deep: a chain of ${deepForks}` },
        async (target) => {
          const [space] = await prepareSpaces(target, 1, 'fork-deep');
          let tip = space!.rootId;
          return measure(target, (hooks) =>
            runBatch({
              ...hooks,
              count: deepForks,
              concurrency: 1,
              op: async (index) => {
                tip = await fork(target, space!.spaceId, tip, `depth ${index + 1}`);
                return undefined;
              },
            }),
          );
        },
      ),
    );
    const treeNodes = wideForks + 1;
    rows.push(
      await measureRow(
        targets,
        {
          id: 'forks.tree-read',
          scenario: 'forks',
          label: `tree read (${treeNodes} nodes), ${clients} clients`,
        },
        async (target) => {
          const space = wide.get(target)!;
          return measure(target, (hooks) =>
            runClosedLoop({
              ...hooks,
              clients,
              warmupMs: sizes.warmupMs / 2,
              durationMs: sizes.treeReadWindowMs,
              op: async () => {
                await readTree(target, space.spaceId, treeNodes);
                return undefined;
              },
            }),
          );
        },
      ),
    );
    return rows;
  },
};
