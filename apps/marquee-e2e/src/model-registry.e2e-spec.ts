import { join } from 'node:path';
import { MODEL_DESIRED_STATE_KEY } from '@marquee/contracts/queue';
import { makeCausalLm } from '@marquee/shared/model-maker';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { admin, openai } from './support/clients';
import { rejectionOf } from './support/errors';
import { e2eStack } from './support/stack';

/** The gateway's QUEUE_TIMEOUT_MS in the e2e stack (see global-setup). */
const QUEUE_TIMEOUT_MS = 20_000;

interface WorkerEntry {
  id: string;
  models: string[];
  model_errors: Record<string, string>;
}

const client = openai();
const { model: baseModel, modelsDir } = e2eStack();
// Redis is shared with other runs: names unique to this run.
const hot = `${baseModel}-hot`;
const outside = `${baseModel}-outside`;

async function workers(): Promise<WorkerEntry[]> {
  const reply = await admin('GET', '/workers');
  expect(reply.status).toBe(200);
  return ((await reply.json()) as { data: WorkerEntry[] }).data;
}

/** The stack's own worker: the one serving the run's base model. */
async function ourWorker(): Promise<WorkerEntry> {
  const found = (await workers()).find((w) => w.models.includes(baseModel));
  if (!found) throw new Error(`no live worker serves ${baseModel}`);
  return found;
}

/** Polls GET /admin/v1/workers until our worker's entry satisfies `check` (presence is pushed on each change). */
async function waitForWorker(
  check: (w: WorkerEntry) => boolean,
  timeoutMs = 30_000,
): Promise<WorkerEntry> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const worker = await ourWorker();
    if (check(worker)) return worker;
    if (Date.now() > deadline)
      throw new Error(`worker never got there: ${JSON.stringify(worker)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function register(name: string, artifactPath: string): Promise<string> {
  const reply = await admin('POST', '/models', {
    name,
    artifact_path: artifactPath,
    context_length: 256,
  });
  expect(reply.status).toBe(201);
  return ((await reply.json()) as { id: string }).id;
}

afterAll(async () => {
  // Leave no desired state or queue keys of this run's models behind in the shared Redis.
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  try {
    await redis.hdel(MODEL_DESIRED_STATE_KEY, hot, outside);
    for (const name of [hot, outside]) {
      const keys = await redis.keys(`{marquee}:*infer.${name}[.:]*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
});

describe('model registry: load and unload on a running worker', () => {
  let hotId: string;

  beforeAll(() => {
    makeCausalLm({
      out: join(modelsDir, hot),
      name: hot,
      layers: 1,
      hidden: 32,
      heads: 2,
      vocab: 300,
      context: 256,
      seed: 7,
    });
  });

  it('loads a newly registered model without a restart, lists it under the worker and serves a completion', async () => {
    hotId = await register(hot, join(modelsDir, hot));
    expect((await ourWorker()).models).not.toContain(hot);

    const load = await admin('POST', `/models/${hotId}/load`);
    expect(load.status).toBe(202);
    expect(await load.json()).toMatchObject({
      name: hot,
      desired_state: 'loaded',
    });
    const worker = await waitForWorker((w) => w.models.includes(hot));
    expect(worker.model_errors[hot]).toBeUndefined();

    const completion = await client.completions.create({
      model: hot,
      prompt: 'A heist film set in',
      max_tokens: 4,
      seed: 1,
    });
    expect(completion.model).toBe(hot);
    expect(completion.choices[0]?.text).toEqual(expect.any(String));
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it(
    'unloads it: the worker stops announcing it and a request for it gets 503 no_worker_available at once',
    async () => {
      const unload = await admin('POST', `/models/${hotId}/unload`);
      expect(unload.status).toBe(202);
      const worker = await waitForWorker((w) => !w.models.includes(hot));
      expect(worker.models).toContain(baseModel);

      const started = Date.now();
      const error = await rejectionOf(
        client.completions.create({ model: hot, prompt: 'hi', max_tokens: 2 }),
      );

      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ status: 503, code: 'no_worker_available' });
      expect(error).toMatchObject({ headers: expect.anything() });
      expect(
        Number(
          (error as InstanceType<typeof OpenAI.APIError>).headers?.get(
            'retry-after',
          ),
        ),
      ).toBeGreaterThan(0);
      // Not the queue timeout: no live worker serves it, so nothing is queued (the client's own
      // retries of a 503 included).
      expect(Date.now() - started).toBeLessThan(QUEUE_TIMEOUT_MS / 2);
    },
    QUEUE_TIMEOUT_MS + 30_000,
  );

  it('refuses a model folder outside MODELS_DIR and says why under model_errors', async () => {
    const id = await register(outside, join(modelsDir, '..'));

    const load = await admin('POST', `/models/${id}/load`);
    expect(load.status).toBe(202);
    const worker = await waitForWorker((w) => outside in w.model_errors);

    expect(worker.models).not.toContain(outside);
    expect(worker.model_errors[outside]).toMatch(/outside MODELS_DIR/);
    expect((await admin('POST', `/models/${id}/unload`)).status).toBe(202);
    await waitForWorker((w) => !(outside in w.model_errors));
  });
});
