/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

// The app talks only GraphQL; endpoints come from VITE_GRAPHQL_URL / VITE_GRAPHQL_WS_URL at build time,
// or from /config.js at run time (see src/api/config.ts), else the page's host on port 8080.
export default defineConfig({
  plugins: [solid()],
  // `just ui-dev`: hot reload on :5173 beside `just up` (which serves the built app on :3000)
  server: { host: 'localhost', port: 5173, strictPort: true },
  // the dev server pre-bundles what the page imports, not what Monaco's GraphQL worker imports: these two are
  // CommonJS, and served raw they break the worker, so Monaco falls back to the page's thread
  // (tests/ui/test_dev_server.py runs the Explorer on the dev server)
  optimizeDeps: { include: ['nullthrows', 'picomatch-browser'] },
  preview: { host: '127.0.0.1', port: 3000, strictPort: true },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 6000, // GraphiQL + Monaco, loaded only by the Explorer
    rollupOptions: {
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return; // React libraries' "use client"
        warn(warning);
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    setupFiles: ['./src/test-setup.ts'],
  },
  resolve: { conditions: ['development', 'browser'] },
});
