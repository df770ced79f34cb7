import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  ApiKeyRepository,
  BillingRepository,
  ModelRepository,
  PrismaService,
  TenantRepository,
} from '@marquee/gateway/data-access-db';
import { hashApiKey, mintApiKey } from '@marquee/gateway/feature-auth';
import { readModelManifest } from '@marquee/shared/model-format';

export interface SeedResult {
  tenantId: string;
  apiKey: string;
  model: string;
}

/** Credit the demo tenant starts with: 1,000 units of currency. */
const DEMO_CREDIT_MICROS = 1_000_000_000n;
/** Demo prices per 1M tokens: 0.20 prompt, 0.60 completion (micro-units). */
const DEMO_PRICES = {
  inputPricePerMTokMicros: 200_000n,
  outputPricePerMTokMicros: 600_000n,
};

interface SavedKey {
  id: string;
  key: string;
}

/**
 * Makes sure the demo tenant, its key and a model row exist. The demo key's secret is kept in
 * `keyFile` (the database only has its hash) so the same key works across restarts.
 */
export async function seedDemo(opts: {
  databaseUrl: string;
  modelDir: string;
  keyFile: string;
  tenantName?: string;
}): Promise<SeedResult> {
  const prisma = new PrismaService(opts.databaseUrl);
  try {
    const tenants = new TenantRepository(prisma);
    const keys = new ApiKeyRepository(prisma);
    const models = new ModelRepository(prisma);
    const name = opts.tenantName ?? 'demo';
    const tenant =
      (await tenants.findByName(name)) ?? (await tenants.create(name));
    if ((await new BillingRepository(prisma).balanceMicros(tenant.id)) === 0n) {
      await prisma.creditTransaction.create({
        data: {
          tenantId: tenant.id,
          kind: 'topup',
          amountMicros: DEMO_CREDIT_MICROS,
          note: 'demo credit',
        },
      });
    }

    let apiKey: string | null = null;
    if (existsSync(opts.keyFile)) {
      const saved = JSON.parse(
        await readFile(opts.keyFile, 'utf8'),
      ) as SavedKey;
      const principal = await keys.findActiveByHash(hashApiKey(saved.key));
      if (principal?.tenantId === tenant.id) apiKey = saved.key;
    }
    if (!apiKey) {
      const minted = mintApiKey();
      const key = await keys.create({
        tenantId: tenant.id,
        name: 'demo key',
        prefix: minted.prefix,
        hash: minted.hash,
      });
      await mkdir(dirname(opts.keyFile), { recursive: true });
      await writeFile(
        opts.keyFile,
        JSON.stringify({ id: key.id, key: minted.key } satisfies SavedKey),
        { mode: 0o600 },
      );
      apiKey = minted.key;
    }

    const manifest = await readModelManifest(opts.modelDir);
    await models.upsert({
      name: manifest.name,
      task: manifest.task === 'embedding' ? 'embedding' : 'text_generation',
      artifactPath: opts.modelDir,
      contextLength: manifest.contextLength,
    });
    // Price a freshly created model; never overwrite prices an admin set.
    await prisma.model.updateMany({
      where: {
        name: manifest.name,
        inputPricePerMTokMicros: 0n,
        outputPricePerMTokMicros: 0n,
      },
      data: DEMO_PRICES,
    });
    return { tenantId: tenant.id, apiKey, model: manifest.name };
  } finally {
    await prisma.$disconnect();
  }
}
