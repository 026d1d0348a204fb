// Builds the dashboard into dist/web (served by `autobuild up`). `npm run dev:web` serves it with
// hot reload, proxying to a running platform (AUTOBUILD_URL, MEMORY_SERVICE_URL or the defaults).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = path.dirname(fileURLToPath(import.meta.url));
const target = (prefix: string, url: string) => ({ target: url, changeOrigin: true, rewrite: (p: string) => p.slice(prefix.length) });

export default defineConfig({
  root: here,
  plugins: [react()],
  build: { outDir: path.join(here, '../dist/web'), emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: {
      '/api/orchestrator': target('/api/orchestrator', process.env.AUTOBUILD_URL ?? 'http://127.0.0.1:8080'),
      '/api/memory': target('/api/memory', process.env.MEMORY_SERVICE_URL ?? 'http://127.0.0.1:8000'),
    },
  },
});
