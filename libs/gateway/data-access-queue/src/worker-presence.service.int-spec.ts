import {
  WORKER_INDEX_KEY,
  removeWorkerPresence,
  writeWorkerPresence,
} from '@marquee/contracts/queue';
import { RedisConnection } from './redis.provider';
import { WorkerPresenceService } from './worker-presence.service';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('WorkerPresenceService (Redis)', () => {
  let connection: RedisConnection;
  let presence: WorkerPresenceService;
  const id = (name: string) => `presence-spec-${process.pid}-${name}`;
  const worker = (name: string) => ({
    workerId: id(name),
    models: [`model-${name}`],
    executionProvider: 'cpu',
    startedAt: Date.now(),
  });

  beforeAll(() => {
    connection = new RedisConnection(REDIS_URL);
    presence = new WorkerPresenceService(connection);
  });

  afterAll(async () => {
    for (const name of ['steady', 'brief', 'leaving'])
      await removeWorkerPresence(connection.client, id(name));
    await connection.onModuleDestroy();
  });

  it('finds the live workers from their index, without scanning the keyspace, and forgets the expired', async () => {
    await writeWorkerPresence(connection.client, worker('steady'), 30);
    await writeWorkerPresence(connection.client, worker('brief'), 1);
    await writeWorkerPresence(connection.client, worker('leaving'), 30);
    await removeWorkerPresence(connection.client, id('leaving'));
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    const commands: string[] = [];
    const send = connection.client.sendCommand.bind(connection.client);
    connection.client.sendCommand = ((...args: Parameters<typeof send>) => {
      commands.push(args[0].name);
      return send(...args);
    }) as typeof send;
    const live = (await presence.live()).map((w) => w.workerId);
    connection.client.sendCommand = send;

    expect(live).toContain(id('steady'));
    expect(live).not.toContain(id('brief'));
    expect(live).not.toContain(id('leaving'));
    expect(commands).not.toContain('scan');
    expect(
      await connection.client.zscore(WORKER_INDEX_KEY, id('brief')),
    ).toBeNull();
  });
});
