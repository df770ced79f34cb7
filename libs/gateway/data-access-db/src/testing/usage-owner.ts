import {
  createTestDatabase,
  type TestDatabase,
} from '@marquee/shared/util-setup';
import { ApiKeyRepository } from '../api-keys/api-key.repository';
import { ModelRepository } from '../models/model.repository';
import { PrismaService } from '../prisma.service';
import { TenantRepository } from '../tenants/tenant.repository';

/** A fresh database with what a usage row points at: a tenant, one of its keys and a model. */
export interface UsageOwnerDb {
  db: TestDatabase;
  prisma: PrismaService;
  ids: { tenantId: string; apiKeyId: string; modelId: string };
  /** Disconnects and drops the database. */
  drop(): Promise<void>;
}

/** For specs of the repositories that write usage and charges. */
export async function usageOwnerDb(name: string): Promise<UsageOwnerDb> {
  const db = await createTestDatabase(name);
  const prisma = new PrismaService(db.url);
  const tenant = await new TenantRepository(prisma).create('studio');
  const key = await new ApiKeyRepository(prisma).create({
    tenantId: tenant.id,
    name: 'k',
    prefix: 'mq_x',
    hash: 'h'.repeat(64),
  });
  const model = await new ModelRepository(prisma).upsert({
    name: 'm',
    task: 'text_generation',
    artifactPath: '/m',
    contextLength: 64,
  });
  return {
    db,
    prisma,
    ids: { tenantId: tenant.id, apiKeyId: key.id, modelId: model.id },
    drop: async () => {
      await prisma.$disconnect();
      await db.drop();
    },
  };
}
