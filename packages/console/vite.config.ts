import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The console is served by the server under /console, from this package's dist/. The client is
// read from its sources (the workspace's `@stello-ai/source` condition), so no other package needs
// a build first. Everything is bundled: no CDN, no external font.
// `vite` (the dev server) sends the API's routes to a running Stello server: STELLO_URL, else :3000.
const apiTarget = process.env.STELLO_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  base: '/console/',
  server: { proxy: { '/spaces': apiTarget, '/healthz': apiTarget, '/readyz': apiTarget } },
  plugins: [preact()],
  resolve: { conditions: ['@stello-ai/source', 'module', 'browser', 'development|production'] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One script and one stylesheet are enough for a small app; no inline data URLs (the CSP allows only files).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
