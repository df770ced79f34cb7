import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

/** DI token for the PostgreSQL connection string. */
export const DATABASE_URL = Symbol('DATABASE_URL');

/**
 * How long a query waits for a connection (a new one, or a free one from the pool), in ms.
 * Past it the query fails and the request gets 503 `database_unavailable` at once, instead of
 * hanging while PostgreSQL is down or unreachable.
 */
export const DATABASE_CONNECT_TIMEOUT_MS = 2_000;

/** The one Prisma client of a process, over node-postgres. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(DATABASE_URL) databaseUrl: string) {
    super({
      adapter: new PrismaPg({
        connectionString: databaseUrl,
        max: 10,
        connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
      }),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }

  /** True when PostgreSQL answers a trivial query. */
  async ping(): Promise<boolean> {
    try {
      await this.$queryRaw`SELECT 1`;
      return true;
    } catch {
      return false;
    }
  }
}
