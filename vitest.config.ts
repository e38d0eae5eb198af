import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through this export condition, so tests
// need no build step. The rest are Vite's default server conditions.
const conditions = ['@stello-ai/source', 'module', 'node', 'development|production'];

// The server's end-to-end tests use the client from its source (no package dependency: the client's
// own tests run the server, and a dependency back would be a cycle). Matches tsconfig.json's paths.
const alias = {
  '@stello-ai/client': fileURLToPath(new URL('packages/client/src/index.ts', import.meta.url)),
};

export default defineConfig({
  resolve: { conditions, alias },
  ssr: { resolve: { conditions } },
  // Vitest loads globalSetup files in its own `__vitest__` environment, which resolves with Vite's
  // default conditions unless told otherwise (the global setup imports @stello-ai/db by name).
  environments: { __vitest__: { resolve: { conditions } } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'internal/*/src/**/*.test.ts',
      'examples/*/src/**/*.test.ts',
      'bench/src/**/*.test.ts',
    ],
    // Starts (or finds) the PostgreSQL the database-backed tests use, and migrates a template once.
    globalSetup: ['internal/testing/src/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    restoreMocks: true,
    reporters: ['default', './internal/testing/src/summary-reporter.ts'],
  },
});
