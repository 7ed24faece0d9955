/** Builds the console into web/dist, which the node serves at `/` (src/api/console.ts). */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Everything ships with the package: no CDN, no external font, no inline script (the CSP).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  // The console talks to the node that serves it; in `vite dev` proxy to a local node.
  server: {
    proxy: {
      '/api': { target: process.env.HOTLINE_NODE ?? 'http://127.0.0.1:7101', ws: true },
    },
  },
});
