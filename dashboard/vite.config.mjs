// Builds the dashboard page into dist/dashboard (served by `selfsup dashboard`; nothing from a CDN).
import { fileURLToPath } from 'node:url';

export default {
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: { outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)), emptyOutDir: true, chunkSizeWarningLimit: 1000 },
};
