import { randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import {
  FastifyAdapter,
  type NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { PrismaService } from '@marquee/gateway/data-access-db';
import { setupApiDocs } from '@marquee/gateway/feature-docs';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { installRequestIdHeader } from '@marquee/gateway/util-http';
import {
  createTestDatabase,
  type TestDatabase,
} from '@marquee/shared/util-setup';
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

export async function startTestGateway(label: string): Promise<TestGateway> {
  const db: TestDatabase = await createTestDatabase(label);
  const adminToken = `bootstrap-${randomBytes(16).toString('hex')}`;
  const config = GatewayConfig.fromEnv({
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    MARQUEE_ADMIN_TOKEN: adminToken,
    GATEWAY_ID: `test-${label}-${process.pid}`,
    QUEUE_TIMEOUT_MS: '500',
    LOG_LEVEL: 'silent',
  });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(config)],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    new FastifyAdapter({ logger: false }),
    { logger: false },
  );
  const instance = app.getHttpAdapter().getInstance();
  const routes: RegisteredRoute[] = [];
  instance.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods)
      if (method !== 'HEAD' && method !== 'OPTIONS')
        routes.push({ method, url: route.url });
  });
  installRequestIdHeader(instance);
  setupApiDocs(app);
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
