import { randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import {
  FastifyAdapter,
  type NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { PrismaService } from '@marquee/gateway/data-access-db';
import { setupApiDocs } from '@marquee/gateway/feature-docs';
import { GracefulShutdown } from '@marquee/gateway/feature-health';
import { GatewayConfig } from '@marquee/gateway/util-config';
import {
  gatewayFastifyOptions,
  installHttpHooks,
} from '@marquee/gateway/util-http';
import {
  createTestDatabase,
  type TestDatabase,
} from '@marquee/shared/util-setup';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../app.module';

/** A route as Fastify registered it. */
export interface RegisteredRoute {
  method: string;
  url: string;
}

/** The whole gateway (AppModule), in process, on its own fresh database. */
export interface TestGateway {
  app: NestFastifyApplication;
  prisma: PrismaService;
  adminToken: string;
  /** Every route the app registered, HEAD and OPTIONS left out. */
  routes: RegisteredRoute[];
  close(): Promise<void>;
}

/** How a test gateway differs from the default one. */
export interface TestGatewayOptions {
  /** The URL the app uses for its fresh database (e.g. through a proxy the test controls). */
  databaseUrl?: (url: string) => string;
  redisUrl?: string;
  /** Log as `main.ts` does (pino through Nest's logger) at this level; default silent. */
  logLevel?: 'info' | 'debug' | 'trace';
  /** Extra gateway variables. */
  env?: Record<string, string>;
}

export async function startTestGateway(
  label: string,
  options: TestGatewayOptions = {},
): Promise<TestGateway> {
  const db: TestDatabase = await createTestDatabase(label);
  const adminToken = `bootstrap-${randomBytes(16).toString('hex')}`;
  const config = GatewayConfig.fromEnv({
    DATABASE_URL: options.databaseUrl?.(db.url) ?? db.url,
    REDIS_URL:
      options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    MARQUEE_ADMIN_TOKEN: adminToken,
    GATEWAY_ID: `test-${label}-${process.pid}`,
    QUEUE_TIMEOUT_MS: '500',
    LOG_LEVEL: options.logLevel ?? 'silent',
    // Many gateways share one test process: each scrapes on a free port.
    METRICS_PORT: '0',
    ...options.env,
  });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(config)],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    new FastifyAdapter(gatewayFastifyOptions()),
    options.logLevel ? { bufferLogs: true } : { logger: false },
  );
  if (options.logLevel) app.useLogger(app.get(Logger));
  const instance = app.getHttpAdapter().getInstance();
  const routes: RegisteredRoute[] = [];
  instance.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods)
      if (method !== 'HEAD' && method !== 'OPTIONS')
        routes.push({ method, url: route.url });
  });
  installHttpHooks(instance);
  setupApiDocs(app);
  // As main.ts: request tracking and the per-request log context.
  app.get(GracefulShutdown).install(instance);
  await app.init();
  await instance.ready();
  const prisma = new PrismaService(db.url);
  return {
    app,
    prisma,
    adminToken,
    routes,
    close: async () => {
      await app.close();
      await prisma.$disconnect();
      await db.drop();
    },
  };
}
