import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The review app is served by the API under / (same origin as /v1); `npm run dev -w @vad/web`
// proxies the API of VAD_API_URL (default http://127.0.0.1:3000) for development.
const api = process.env.VAD_API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/v1': api, '/docs': api, '/admin': api } },
});
