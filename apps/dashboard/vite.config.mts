/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The admin dashboard. Built into dist/apps/dashboard, which the gateway serves at /dashboard/.
 * `npx nx run dashboard:serve` runs Vite's dev server with /admin proxied to a gateway
 * (MARQUEE_GATEWAY, default http://localhost:8080).
 */
export default defineConfig({
  root,
  base: '/dashboard/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(
      new URL('../../dist/apps/dashboard', import.meta.url),
    ),
    emptyOutDir: true,
    // ECharts alone is ~600 kB minified; one admin page, loaded once.
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/admin': process.env.MARQUEE_GATEWAY ?? 'http://localhost:8080',
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
