import { randomUUID } from 'node:crypto';
import {
  gatewayAliveKey,
  jobRunKey,
  usageEntrySchema,
  workerPresenceKey,
} from '@marquee/contracts/queue';
import { WorkerConfig } from '@marquee/worker/util-config';
import { Redis } from 'ioredis';
import { type BilledJob, UsageRecorder } from './usage-recorder.service';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The worker's side of the ledger, against real Redis. */
describe('UsageRecorder (Redis)', () => {
  let redis: Redis;
  let recorder: UsageRecorder;
  const ledger = `mq:usage:test-${randomUUID()}`;
  const gatewayId = `gw-${randomUUID()}`;

  const job = (billed = true): BilledJob => ({
    requestId: `req_${randomUUID()}`,
    tenantId: 't1',
    apiKeyId: 'k1',
    endpoint: 'completions',
    replyTo: { gatewayId },
    ...(billed
      ? { billing: { ledger, modelId: 'm1', budgetMonth: '2026-11' } }
      : {}),
  });

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    recorder = new UsageRecorder(
      WorkerConfig.fromEnv({ REDIS_URL, WORKER_ID: 'w-test' }),
    );
  });

  afterAll(async () => {
    await redis.del(ledger, gatewayAliveKey(gatewayId));
    redis.disconnect();
    recorder.onModuleDestroy();
  });

  it("appends a job's usage to the ledger its gateway named, and nothing for a job without billing", async () => {
    const billed = job();
    await recorder.record(billed, {
      promptTokens: 4,
      completionTokens: 6,
      finishReason: 'stop',
    });
    await recorder.record(job(false), {
      promptTokens: 1,
      completionTokens: 1,
      finishReason: 'stop',
    });
    const entries = await redis.xrange(ledger, '-', '+');
    expect(entries).toHaveLength(1);
    const entry = usageEntrySchema.parse(JSON.parse(entries[0][1][1]));
    expect(entry).toMatchObject({
      requestId: billed.requestId,
      ran: true,
      promptTokens: 4,
      completionTokens: 6,
      modelId: 'm1',
      source: 'worker',
    });
  });

  it('lets a job start once, and again only once it was handed back', async () => {
    const { requestId } = job();
    expect(await recorder.claimRun(requestId)).toBe(true);
    expect(await recorder.claimRun(requestId)).toBe(false);
    await recorder.unclaimRun(requestId);
    expect(await recorder.claimRun(requestId)).toBe(true);
    await redis.del(jobRunKey(requestId));
  });

  it('tells a live gateway from a dead one, and a gateway whose link closed from one that lives on', async () => {
    const key = gatewayAliveKey(gatewayId);
    expect(await recorder.requesterAlive(gatewayId)).toBe(false);
    await redis.set(key, '1', 'EX', 10);
    expect(await recorder.requesterAlive(gatewayId)).toBe(true);
    // Its link closed: not alive until it refreshes its key.
    await recorder.markGone(gatewayId);
    const started = Date.now();
    expect(await recorder.requesterAlive(gatewayId)).toBe(false);
    expect(Date.now() - started).toBeGreaterThan(1_000);
    setTimeout(() => void redis.set(key, '2', 'EX', 10), 1_000);
    expect(await recorder.requesterAlive(gatewayId)).toBe(true);
  });

  it('claims a job and reads its requester in one round trip', async () => {
    const other = `gw-${randomUUID()}`;
    const { requestId } = job();
    expect(await recorder.claimIfAlive(requestId, other)).toEqual({
      claimed: true,
      alive: false,
    });
    expect(await recorder.claimIfAlive(requestId, other)).toEqual({
      claimed: false,
      alive: false,
    });
    await redis.set(gatewayAliveKey(other), '1', 'EX', 10);
    const fresh = job();
    expect(await recorder.claimIfAlive(fresh.requestId, other)).toEqual({
      claimed: true,
      alive: true,
    });
    await redis.del(
      gatewayAliveKey(other),
      jobRunKey(requestId),
      jobRunKey(fresh.requestId),
    );
  });

  it("takes over the claim of a dead worker, never a live one's", async () => {
    const dead = job();
    const live = job();
    await redis.set(jobRunKey(dead.requestId), 'w-dead', 'EX', 60);
    await redis.set(jobRunKey(live.requestId), 'w-live', 'EX', 60);
    await redis.set(workerPresenceKey('w-live'), '{}', 'EX', 60);
    expect(
      (await recorder.claimIfAlive(dead.requestId, gatewayId)).claimed,
    ).toBe(true);
    expect(await redis.get(jobRunKey(dead.requestId))).toBe('w-test');
    expect(
      (await recorder.claimIfAlive(live.requestId, gatewayId)).claimed,
    ).toBe(false);
    await redis.del(
      jobRunKey(dead.requestId),
      jobRunKey(live.requestId),
      workerPresenceKey('w-live'),
    );
  });
});
