import { basename } from 'node:path';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that self time needs. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * The `count` functions with the most self time in a CPU profile, each as
 * `name (file:line) share %`, for a missed target's verdict.
 */
export function topSelfTime(profile: CpuProfile, count: number): string[] {
  const frameOf = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((nodeId, index) => {
    const frame = frameOf.get(nodeId);
    // The delta before a sample is the time attributed to it.
    const us = Math.max(0, profile.timeDeltas[index] ?? 0);
    if (!frame || frame.functionName === '(idle)') return;
    const where = frame.url === '' ? '' : ` (${basename(frame.url)}:${frame.lineNumber + 1})`;
    const key = `${frame.functionName || '(anonymous)'}${where}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + us);
    totalUs += us;
  });
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, us]) => `${key} ${((us / totalUs) * 100).toFixed(1)} %`);
}
