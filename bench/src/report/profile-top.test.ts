import { describe, expect, it } from 'vitest';
import { type CpuProfile, topSelfTime } from './profile-top';

const frame = (functionName: string, url: string, lineNumber: number) => ({ functionName, url, lineNumber });

describe('topSelfTime', () => {
  it('ranks functions by self time, merging nodes of one function and leaving idle out', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)', '', -1) },
        { id: 2, callFrame: frame('writev', 'node:net', 9) },
        { id: 3, callFrame: frame('parse', 'file:///x/pg/result.js', 41) },
        { id: 4, callFrame: frame('writev', 'node:net', 9) },
        { id: 5, callFrame: frame('', 'file:///x/app.js', 0) },
      ],
      samples: [1, 2, 3, 4, 5, 1],
      timeDeltas: [500, 300, 200, 300, 200, 900],
    };

    expect(topSelfTime(profile, 2)).toEqual(['writev (node:net:10) 60.0 %', 'parse (result.js:42) 20.0 %']);
    expect(topSelfTime(profile, 5)).toHaveLength(3);
  });
});
