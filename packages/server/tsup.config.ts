import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.config.base';

// The CLI keeps its `#!/usr/bin/env node` line (esbuild preserves an entry's hashbang and tsup
// marks such outputs executable). Declarations are only emitted for the library entry.
export default defineConfig({
  ...baseConfig,
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  dts: { entry: { index: 'src/index.ts' }, compilerOptions: { customConditions: [] } },
});
