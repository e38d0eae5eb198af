import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };

// `@stello-ai/core` and `@stello-ai/session` are peers that may be the original 0.2.x packages:
// storage may use their types, never a value of theirs (a class, a function) at run time.

const SOURCE_DIR = join(import.meta.dirname, '..');
const PEERS = /from\s+'@stello-ai\/(session|core)(\/[^']*)?'/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every import or export statement of a file that names a peer, as written. */
function peerStatements(text: string): string[] {
  const statements = text.match(/^(?:import|export)\b[^;]*;/gms) ?? [];
  return statements.filter((statement) => PEERS.test(statement));
}

describe('storage and its peers', () => {
  it('declares core and session as peers whose range covers the original 0.2.x', () => {
    const pkg = packageJson as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    for (const name of ['@stello-ai/core', '@stello-ai/session']) {
      expect(pkg.dependencies[name]).toBeUndefined();
      expect(pkg.peerDependencies[name]).toBe('>=0.2.0 <0.4.0');
    }
  });

  it('imports nothing but types from them in its source', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(SOURCE_DIR)) {
      for (const statement of peerStatements(readFileSync(file, 'utf8'))) {
        if (!/^(import|export) type\b/.test(statement))
          offenders.push(`${relative(SOURCE_DIR, file)}: ${statement}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('recognises a value import when there is one (the check itself)', () => {
    expect(
      peerStatements(
        `import { SessionError } from '@stello-ai/session';\nimport type { X } from '@stello-ai/core';`,
      ),
    ).toEqual([
      `import { SessionError } from '@stello-ai/session';`,
      `import type { X } from '@stello-ai/core';`,
    ]);
  });
});
