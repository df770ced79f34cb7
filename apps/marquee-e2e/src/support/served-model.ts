import { join } from 'node:path';
import { MODEL_DESIRED_STATE_KEY } from '@marquee/contracts/queue';
import { makeCausalLm } from '@marquee/shared/model-maker';
import { Redis } from 'ioredis';
import { admin } from './clients';
import { e2eStack } from './stack';

async function workerModels(): Promise<string[][]> {
  const reply = await admin('GET', '/workers');
  if (reply.status !== 200)
    throw new Error(`GET /admin/v1/workers answered ${reply.status}`);
  const { data } = (await reply.json()) as { data: { models: string[] }[] };
  return data.map((w) => w.models);
}

/** Polls GET /admin/v1/workers until a live worker announces (or stops announcing) `name`. */
export async function waitForServing(
  name: string,
  serving: boolean,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await workerModels()).some((m) => m.includes(name)) !== serving) {
    if (Date.now() > deadline)
      throw new Error(`${name} was never ${serving ? 'served' : 'dropped'}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Registers a model folder through the admin API, loads it and waits until a worker serves it.
 * `unserve` unloads it and leaves no desired state or queue keys of it in the shared Redis.
 */
export async function serveModel(
  registration: { name: string; artifact_path: string } & Record<
    string,
    unknown
  >,
): Promise<{ id: string; unserve: () => Promise<void> }> {
  const reply = await admin('POST', '/models', registration);
  if (reply.status !== 201)
    throw new Error(
      `POST /admin/v1/models answered ${reply.status}: ${await reply.text()}`,
    );
  const { id } = (await reply.json()) as { id: string };
  const load = await admin('POST', `/models/${id}/load`);
  if (load.status !== 202)
    throw new Error(`loading ${registration.name} answered ${load.status}`);
  await waitForServing(registration.name, true);
  return {
    id,
    unserve: async () => {
      await admin('POST', `/models/${id}/unload`);
      await waitForServing(registration.name, false);
      const redis = new Redis(
        process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      );
      try {
        await redis.hdel(MODEL_DESIRED_STATE_KEY, registration.name);
        const keys = await redis.keys(
          `{marquee}:*infer.${registration.name}[.:]*`,
        );
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    },
  };
}

/**
 * Makes a tiny random-weight causal LM named `name` in the run's models folder, with room for a
 * tools preamble and a long JSON answer (context 2048), and serves it as {@link serveModel} does.
 */
export async function serveGeneratedModel(
  name: string,
  seed: number,
): Promise<{ id: string; unserve: () => Promise<void> }> {
  const dir = join(e2eStack().modelsDir, name);
  makeCausalLm({
    out: dir,
    name,
    layers: 2,
    hidden: 64,
    heads: 4,
    vocab: 512,
    context: 2048,
    dtype: 'fp32',
    seed,
  });
  return serveModel({ name, artifact_path: dir });
}
