/**
 * `npm run bench:admission`: what admission adds to a request — the atomic Redis Lua step that
 * checks requests/min, tokens/min, concurrency and budget for a key and its tenant — and its
 * settlement, beside a bare Redis round trip (PING) on the same connection, interleaved so
 * machine noise hits all three alike.
 */
import { randomUUID } from 'node:crypto';
import type { BillingRepository } from '@marquee/gateway/data-access-db';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import {
  AdmissionService,
  BudgetSource,
} from '@marquee/gateway/feature-quotas';
import { startReport, summary } from './bench-report';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUNS = Number(process.env.BENCH_RUNS ?? 3000);

async function main(): Promise<void> {
  const redis = new RedisConnection(REDIS_URL);
  // The budget counter is seeded below, so PostgreSQL is never consulted during the run.
  const budgets = new BudgetSource(
    undefined as unknown as BillingRepository,
    redis,
  );
  const admission = new AdmissionService(redis, budgets);
  const tenantId = `bench-${randomUUID()}`;
  await redis.client.set(budgets.key(tenantId), String(10n ** 15n), 'EX', 600);
  const limits = {
    requestsPerMinute: 1_000_000,
    tokensPerMinute: 1_000_000_000,
    maxConcurrentRequests: 1_000,
  };
  const ping: number[] = [];
  const admit: number[] = [];
  const settle: number[] = [];
  const report = startReport('npm run bench:admission');
  for (let i = 0; i < RUNS + 200; i++) {
    let t0 = performance.now();
    await redis.client.ping();
    const pingMs = performance.now() - t0;
    t0 = performance.now();
    const granted = await admission.admit({
      requestId: `req_${i}`,
      tenantId,
      apiKeyId: 'bench-key',
      tokens: 600,
      costMicros: 500n,
      limits,
    });
    const admitMs = performance.now() - t0;
    t0 = performance.now();
    await admission.settle(granted, 300, 250n);
    const settleMs = performance.now() - t0;
    if (i < 200) continue; // warm-up
    ping.push(pingMs);
    admit.push(admitMs);
    settle.push(settleMs);
  }
  const milliseconds = {
    redisPing: summary(ping),
    admit: summary(admit),
    settle: summary(settle),
  };
  report.write(
    'admission.json',
    {
      setup: {
        runs: RUNS,
        note: 'sliding windows hold up to 1 minute of this run per key and tenant (thousands of entries), the realistic worst case for a busy tenant',
      },
      milliseconds,
    },
    milliseconds,
  );
  await redis.onModuleDestroy();
}

void main();
