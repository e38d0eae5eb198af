import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.config.base';

// The client runs in browsers too: esbuild's browser platform refuses Node built-ins, and no shims
// (they would import `node:url`). `src/browser-bundle.test.ts` checks the output.
export default defineConfig({
  ...baseConfig,
  platform: 'browser',
  target: 'es2022',
  shims: false,
});
