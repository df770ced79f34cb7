import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MODEL_CONTROL_CHANNEL,
  MODEL_DESIRED_STATE_KEY,
  type ModelControlMessage,
} from '@marquee/contracts/queue';
import { makeCausalLm } from '@marquee/shared/model-maker';
import { TextGenerator } from '@marquee/worker/inference';
import { WorkerConfig } from '@marquee/worker/util-config';
import { Redis } from 'ioredis';
import type { ModelConsumer } from './model-consumers';
import { ModelHost } from './model-host.service';
import { ModelLoader } from './model-loader.service';
import type { WorkerPresenceReporter } from './worker-presence.reporter';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The processors and the reporter as the loader sees them: what it asked of each, in order. */
function fakes() {
  const calls: string[] = [];
  const errors = new Map<string, string>();
  const inference = {
    serve: (m: string) => calls.push(`serve ${m}`),
    retire: async (m: string) => {
      calls.push(`retire ${m}`);
    },
  } satisfies ModelConsumer;
  const embeddings = {
    serve: (m: string) => calls.push(`serve-embedding ${m}`),
    retire: async () => undefined,
  } satisfies ModelConsumer;
  const presence = {
    setModelError: (m: string, reason: string | null) =>
      reason === null ? errors.delete(m) : errors.set(m, reason),
    announce: async () => {
      calls.push('announce');
    },
  } as unknown as WorkerPresenceReporter;
  return { calls, errors, inference, embeddings, presence };
}

describe('ModelLoader (Redis)', () => {
  const suffix = randomUUID().slice(0, 8);
  const name = `loader-${suffix}`;
  const workerId = `loader-spec-${suffix}`;
  let root: string;
  let modelsDir: string;
  let redis: Redis;
  let boot: TextGenerator;

  const config = () =>
    WorkerConfig.fromEnv({
      REDIS_URL,
      MODELS_DIR: modelsDir,
      WORKER_ID: workerId,
    });
  const message = (
    action: 'load' | 'unload',
    extra: Partial<ModelControlMessage> = {},
  ) =>
    ({
      action,
      name,
      requestedAt: Date.now(),
      ...(action === 'load'
        ? {
            task: 'text_generation',
            version: '1',
            artifactPath: join(modelsDir, name),
          }
        : {}),
      ...extra,
    }) as ModelControlMessage;
  const store = (m: ModelControlMessage) =>
    redis.hset(MODEL_DESIRED_STATE_KEY, m.name, JSON.stringify(m));

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-model-loader-'));
    modelsDir = join(root, 'models');
    const common = { layers: 1, hidden: 32, heads: 2, vocab: 300, seed: 3 };
    makeCausalLm({ out: join(modelsDir, name), name, ...common });
    makeCausalLm({
      out: join(root, 'boot'),
      name: `boot-${suffix}`,
      ...common,
    });
    boot = await TextGenerator.load(join(root, 'boot'));
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await redis.hdel(MODEL_DESIRED_STATE_KEY, name);
    redis.disconnect();
    await boot.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('loads at start what the stored desired state marks loaded, and starts its queue', async () => {
    await store(message('load'));
    const host = ModelHost.of([boot]);
    const f = fakes();
    const loader = new ModelLoader(
      config(),
      host,
      { textGeneration: f.inference, embedding: f.embeddings },
      f.presence,
    );

    await loader.onApplicationBootstrap();

    expect(host.allNames).toEqual([`boot-${suffix}`, name].sort());
    // Other runs may have stored states in the shared Redis: look at this model only.
    expect(f.calls).toContain(`serve ${name}`);
    await loader.onModuleDestroy();
    await host.remove(name)?.dispose();
  });

  it('skips a stored load aimed at other workers', async () => {
    await store(message('load', { workerIds: ['someone-else'] }));
    const host = ModelHost.of([boot]);
    const f = fakes();
    const loader = new ModelLoader(
      config(),
      host,
      { textGeneration: f.inference, embedding: f.embeddings },
      f.presence,
    );

    await loader.onApplicationBootstrap();

    expect(host.has(name)).toBe(false);
    expect(f.calls).not.toContain(`serve ${name}`);
    await loader.onModuleDestroy();
  });

  it('unloads on a published message: stops its queue, withdraws it from presence, then frees it', async () => {
    await redis.hdel(MODEL_DESIRED_STATE_KEY, name);
    const loaded = await ModelHost.loadModel(join(modelsDir, name), config());
    const host = ModelHost.of([boot, loaded as TextGenerator]);
    const f = fakes();
    const loader = new ModelLoader(
      config(),
      host,
      { textGeneration: f.inference, embedding: f.embeddings },
      f.presence,
    );
    await loader.onApplicationBootstrap();
    f.calls.length = 0;
    const namesWhenAnnounced: string[][] = [];
    (f.presence as { announce: () => Promise<void> }).announce = async () => {
      namesWhenAnnounced.push(host.allNames);
      f.calls.push('announce');
    };

    await redis.publish(
      MODEL_CONTROL_CHANNEL,
      JSON.stringify(message('unload')),
    );
    await waitFor(() => !host.has(name));

    // Announcing is idempotent and may repeat (the subscriber's first `ready` can land late on
    // a busy machine); what matters is the order, and that no announcement still lists the model.
    expect(f.calls[0]).toBe(`retire ${name}`);
    expect(f.calls.slice(1)).toContain('announce');
    expect(new Set(f.calls.slice(1))).toEqual(new Set(['announce']));
    expect(namesWhenAnnounced.every((n) => !n.includes(name))).toBe(true);
    expect(namesWhenAnnounced.at(-1)).toEqual([`boot-${suffix}`]);
    await loader.onModuleDestroy();
  });

  it('refuses a folder outside MODELS_DIR and reports why', async () => {
    await store(message('load', { artifactPath: join(root, 'boot') }));
    const host = ModelHost.of([boot]);
    const f = fakes();
    const loader = new ModelLoader(
      config(),
      host,
      { textGeneration: f.inference, embedding: f.embeddings },
      f.presence,
    );

    await loader.onApplicationBootstrap();

    expect(host.has(name)).toBe(false);
    expect(f.errors.get(name)).toMatch(/outside MODELS_DIR/);
    await loader.onModuleDestroy();
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
