import { WorkerConfig } from './worker-config';

describe('WorkerConfig', () => {
  it('starts with defaults when nothing is set', () => {
    const config = WorkerConfig.fromEnv({});
    expect(config.metricsPort).toBe(9464);
    expect(config.shutdownGraceMs).toBe(30_000);
    expect(config.executionProvider).toBe('cpu');
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
