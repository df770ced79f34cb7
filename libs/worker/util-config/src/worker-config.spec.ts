import { WorkerConfig } from './worker-config';

describe('WorkerConfig', () => {
  it('starts with defaults when nothing is set', () => {
    const config = WorkerConfig.fromEnv({});
    expect(config.metricsPort).toBe(9464);
    expect(config.shutdownGraceMs).toBe(30_000);
    expect(config.executionProvider).toBe('cpu');
    expect(config.cpuFallback).toBe(false);
    expect(config.scheduler).toEqual({
      maxBatchSize: 32,
      kvBudgetBytes: 2 * 2 ** 30,
      maxPrefillTokens: 2048,
    });
  });

  it('reads the fallback and the scheduler limits', () => {
    const config = WorkerConfig.fromEnv({
      EXECUTION_PROVIDER: 'cuda',
      EXECUTION_PROVIDER_FALLBACK: 'cpu',
      MAX_BATCH_SIZE: '64',
      KV_CACHE_MIB: '512',
      MAX_PREFILL_TOKENS: '256',
    });
    expect(config.cpuFallback).toBe(true);
    expect(config.scheduler).toEqual({
      maxBatchSize: 64,
      kvBudgetBytes: 512 * 2 ** 20,
      maxPrefillTokens: 256,
    });
    expect(() =>
      WorkerConfig.fromEnv({ EXECUTION_PROVIDER_FALLBACK: 'yes' }),
    ).toThrow(/EXECUTION_PROVIDER_FALLBACK/);
    expect(() => WorkerConfig.fromEnv({ MAX_BATCH_SIZE: '0' })).toThrow(
      /MAX_BATCH_SIZE/,
    );
  });

  it('refuses a bad variable with a message naming it', () => {
    expect(() => WorkerConfig.fromEnv({ EXECUTION_PROVIDER: 'tpu' })).toThrow(
      /EXECUTION_PROVIDER/,
    );
    expect(() => WorkerConfig.fromEnv({ METRICS_PORT: '70000' })).toThrow(
      /METRICS_PORT/,
    );
  });

  it('never echoes a Redis password, in errors or in the logged summary', () => {
    const secret = 'hunter2-redis-secret';
    let message = '';
    try {
      WorkerConfig.fromEnv({ REDIS_URL: `http://u:${secret}@redis:6379` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/REDIS_URL/);
    expect(message).not.toContain(secret);
    const config = WorkerConfig.fromEnv({
      REDIS_URL: `redis://u:${secret}@redis:6379`,
    });
    expect(JSON.stringify(config.describe())).not.toContain(secret);
  });
});
