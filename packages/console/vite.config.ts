import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The console is served by the server under /console, from this package's dist/. The client is
// read from its sources (the workspace's `@stello-ai/source` condition), so no other package needs
// a build first. Everything is bundled: no CDN, no external font.
export default defineConfig({
  base: '/console/',
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
