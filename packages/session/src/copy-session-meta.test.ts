import { describe, expect, it } from 'vitest';
import { copySessionMeta } from './copy-session-meta';
import type { SessionMeta } from './types';

const META: SessionMeta = {
  id: 's1',
  label: 'Trip',
  role: 'standard',
  status: 'active',
  tags: ['travel'],
  metadata: { nested: { budget: 100 } },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-02T00:00:00.000Z',
};

describe('copySessionMeta', () => {
  it('keeps only the meta fields when given a richer row', () => {
    expect(copySessionMeta({ ...META, depth: 2, turnCount: 5 } as SessionMeta)).toEqual(META);
  });

  it('shares no mutable tags or metadata with the source', () => {
    const copy = copySessionMeta(META);
    copy.tags.push('changed');
    (copy.metadata.nested as { budget: number }).budget = 0;
    expect(META.tags).toEqual(['travel']);
    expect(META.metadata).toEqual({ nested: { budget: 100 } });
  });
});
