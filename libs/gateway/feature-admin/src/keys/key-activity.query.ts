import { Injectable } from '@nestjs/common';
import { PrismaService } from '@marquee/gateway/data-access-db';

/** What a key did, from the usage ledger. */
export interface KeyActivity {
  apiKeyId: string;
  requests: number;
  /** When its latest billed request ended. */
  lastRequestAt: Date;
}

/**
 * A tenant's keys' activity from the usage ledger (one row per finished request): how many
 * requests each key made and when the latest ended. The ledger is what bills, so this is the
 * "last used" an admin can trust. Uses the `(tenant_id, created_at)` index.
 */
@Injectable()
export class KeyActivityQuery {
  constructor(private readonly prisma: PrismaService) {}

  forTenant(tenantId: string): Promise<KeyActivity[]> {
    return this.prisma.$queryRaw<KeyActivity[]>`
      SELECT api_key_id::text AS "apiKeyId", count(*)::int AS "requests",
        max(created_at) AS "lastRequestAt"
      FROM usage_records
      WHERE tenant_id = ${tenantId}::uuid
      GROUP BY 1`;
  }
}
