import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The console is served by the server under /console, from this package's dist/. The client is
// bundled from its sources in the workspace, so no other package needs a build first. It is no
// dependency of this package: the server depends on the console, and the client's tests on the
// server, so a dependency would close a circle in the workspace's task graph (pnpm refuses it).
// Everything is bundled: no CDN, no external font.
// `vite` (the dev server) sends the API's routes to a running Stello server: STELLO_URL, else :3000.
const apiTarget = process.env.STELLO_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  base: '/console/',
  server: { proxy: { '/spaces': apiTarget, '/healthz': apiTarget, '/readyz': apiTarget } },
  plugins: [preact()],
  resolve: {
    alias: { '@stello-ai/client': fileURLToPath(new URL('../client/src/index.ts', import.meta.url)) },
    conditions: ['module', 'browser', 'development|production'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One script and one stylesheet are enough for a small app; no inline data URLs (the CSP allows only files).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
