import { Redis } from 'ioredis';
import { luaCommand } from './lua-command';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCRIPT = `-- lua-command spec ${process.pid}
return redis.call('INCRBY', KEYS[1], ARGV[1])`;

describe('luaCommand (Redis)', () => {
  let redis: Redis;
  let monitor: Redis;
  const key = `lua-command-spec:${process.pid}:${Date.now()}`;

  beforeEach(() => {
    redis = new Redis(REDIS_URL);
    monitor = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    await redis.del(key);
    redis.disconnect();
    monitor.disconnect();
  });

  it('sends the script once, then only its SHA, and again after Redis lost its scripts', async () => {
    const sent: string[] = [];
    const watch = await monitor.monitor();
    watch.on('monitor', (_time: string, args: string[]) => {
      if (args.includes(key)) sent.push(args[0].toLowerCase());
    });
    const incr = luaCommand(redis, 'specIncr', SCRIPT, 1);
    expect(await incr(key, '2')).toBe(2);
    expect(await incr(key, '3')).toBe(5);
    await redis.script('FLUSH');
    expect(await incr(key, '4')).toBe(9);
    // The same command again is the same function, not a second definition.
    expect(await luaCommand(redis, 'specIncr', SCRIPT, 1)(key, '1')).toBe(10);
    await new Promise((resolve) => setTimeout(resolve, 100));
    watch.disconnect();
    expect(sent.filter((c) => c === 'eval').length).toBeLessThanOrEqual(2);
    expect(sent.filter((c) => c === 'evalsha').length).toBeGreaterThanOrEqual(3);
  });
});
