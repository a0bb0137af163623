import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { CROSS_ORIGIN_ISOLATION_HEADERS, threadedWasmGlue } from './scripts/vite/threadedWasm.ts';

export default defineConfig({
  plugins: [react()],
  worker: {
    format: 'es',
    plugins: () => [threadedWasmGlue()],
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
  },
  // Served cross-origin isolated so that the wasm backend can run on several threads.
  server: { port: 5173, headers: CROSS_ORIGIN_ISOLATION_HEADERS },
  preview: { port: 4173, strictPort: true, headers: CROSS_ORIGIN_ISOLATION_HEADERS },
});
