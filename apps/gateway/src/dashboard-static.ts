import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** Where `nx run dashboard:build` writes the admin dashboard, beside `dist/apps/gateway`. */
export const DASHBOARD_DIR = join(__dirname, '..', 'dashboard');

/**
 * The dashboard's own scripts and styles only; it calls `/admin/v1` on this origin and nothing
 * else. ECharts sets inline styles on its tooltips, hence `'unsafe-inline'` for styles alone.
 */
const DASHBOARD_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the built admin dashboard at `/dashboard/` (`/dashboard` redirects there). Files are
 * looked up per request, so a dashboard built after the gateway started is served too. Answers
 * whether it is built now, so the caller can say how to build it.
 */
export async function serveDashboard(
  app: NestFastifyApplication,
  root = DASHBOARD_DIR,
): Promise<boolean> {
  await app.register(fastifyStatic, {
    root,
    prefix: '/dashboard/',
    decorateReply: false,
    // The caller logs a message that says what to do.
    suppressWarning: true,
    setHeaders: (reply) => {
      void reply.header(
        'content-security-policy',
        DASHBOARD_CONTENT_SECURITY_POLICY,
      );
    },
  });
  // The printed URL has no trailing slash; the app's asset paths are absolute either way.
  app
    .getHttpAdapter()
    .getInstance()
    .get('/dashboard', (_request, reply) => reply.redirect('/dashboard/', 301));
  return existsSync(join(root, 'index.html'));
}
