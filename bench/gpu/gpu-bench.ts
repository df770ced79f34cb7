/**
 * The engine on the GPU machine (see bench/README.md): generates a GPT-2-124M-shaped fp16 model
 * there, then decodes at batch 1 and 32 with context 512 (prompt 256 + 256 new tokens) through
 * the same TextGenerator the worker uses, and times a bare `session.run` of a decode step beside
 * it. Bundled by `bench/gpu/build.sh`; writes `$OUT/node-bench.json`.
 *
 * Env: OUT (result folder), GPU_BENCH_PROVIDER (`cuda`, default; `cpu` for a rehearsal),
 * GPU_BENCH_QUICK=1 (a tiny model and short runs, to rehearse on a CPU).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCausalLm } from '@marquee/shared/model-maker';
import {
  type GenerationParams,
  TextGenerator,
} from '@marquee/worker/inference';
import * as ort from 'onnxruntime-node';

const quick = process.env.GPU_BENCH_QUICK === '1';
const provider = (process.env.GPU_BENCH_PROVIDER ?? 'cuda') as 'cuda' | 'cpu';
const out = process.env.OUT ?? join(process.cwd(), 'gpu-out');
const shape = quick
  ? { layers: 2, hidden: 64, heads: 4, vocab: 512, context: 64 }
  : { layers: 12, hidden: 768, heads: 12, vocab: 50257, context: 1024 };
const prompt = quick ? 16 : 256;
const newTokens = quick ? 16 : 256;
const batches = [1, 32];

const pct = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[
    Math.min(values.length - 1, Math.floor((p / 100) * values.length))
  ];
const round = (x: number, d = 2) => Number(x.toFixed(d));
const log = (what: unknown) => console.log(JSON.stringify(what));

async function main() {
  mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  const made = makeCausalLm({
    out: join(tmpdir(), 'mq-gpt2-bench'),
    name: 'gpt2-124m-fp16',
    ...shape,
    dtype: 'fp16',
    seed: 1,
  });
  const generateSeconds = (performance.now() - t0) / 1000;
  log({ generated: made.parameters, seconds: round(generateSeconds, 1) });

  const generator = await TextGenerator.load(made.dir, {
    executionProvider: provider,
    scheduler: { maxBatchSize: 32, kvBudgetBytes: 2 ** 34 },
  });
  const eos = [made.tokenIds.endOfText, made.tokenIds.imEnd];
  const params: GenerationParams = {
    maxTokens: newTokens,
    n: 1,
    temperature: 0,
    topP: 1,
    stop: [],
    logitBias: Object.fromEntries(eos.map((id) => [id, -100])),
  };
  const runBatch = async (batch: number, maxTokens: number) => {
    const prompts = Array.from({ length: batch }, (_, r) =>
      Array.from(
        { length: prompt },
        (_, i) => (r * 131 + i * 17 + 3) % (shape.vocab - 3),
      ),
    );
    const firsts: number[] = [];
    const gaps: number[] = [];
    const start = performance.now();
    await Promise.all(
      prompts.map(async (ids) => {
        let last: number | undefined;
        await generator.generate(ids, { ...params, maxTokens }, () => {
          const now = performance.now();
          if (last === undefined) firsts.push(now - start);
          else gaps.push(now - last);
          last = now;
        });
      }),
    );
    return { wallMs: performance.now() - start, firsts, gaps };
  };

  const engine = [];
  for (const batch of batches) {
    await runBatch(batch, 4); // warm-up: CUDA kernels, allocator, thread pools
    const before = { ...generator.scheduler.stats };
    const { wallMs, firsts, gaps } = await runBatch(batch, newTokens);
    const after = generator.scheduler.stats;
    const steps = after.decodeSteps - before.decodeSteps;
    const decodeMs = wallMs - Math.max(...firsts);
    const row = {
      batch,
      promptTokens: prompt,
      newTokens,
      tokensPerSecond: round((batch * newTokens) / (wallMs / 1000), 1),
      decodeTokensPerSecond: round(
        (batch * (newTokens - 1)) / (decodeMs / 1000),
        1,
      ),
      timePerStepMs: { p50: round(pct(gaps, 50)), p99: round(pct(gaps, 99)) },
      ttftMs: round(Math.max(...firsts)),
      forwardShare: round(
        (after.forwardMs - before.forwardMs) / (after.loopMs - before.loopMs),
        3,
      ),
      decodeSteps: steps,
    };
    engine.push(row);
    log(row);
  }
  await generator.dispose();

  // A bare decode step at the last position (context 512): ORT plus its host copies, no engine.
  const session = await ort.InferenceSession.create(
    join(made.dir, 'model.onnx'),
    {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
    },
  );
  const D = shape.hidden / shape.heads;
  const past = prompt + newTokens - 1;
  const bare = [];
  for (const batch of batches) {
    const i64 = (v: number, n: number, dims: number[]) =>
      new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(v)), dims);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: i64(7, batch, [batch, 1]),
      attention_mask: i64(1, batch * (past + 1), [batch, past + 1]),
      position_ids: i64(past, batch, [batch, 1]),
    };
    for (let l = 0; l < shape.layers; l++)
      for (const k of ['key', 'value'])
        feeds[`past_key_values.${l}.${k}`] = new ort.Tensor(
          'float16',
          new Uint16Array(batch * shape.heads * past * D).fill(0x2000),
          [batch, shape.heads, past, D],
        );
    const times: number[] = [];
    for (let i = 0; i < 23; i++) {
      const t = performance.now();
      await session.run(feeds);
      if (i >= 3) times.push(performance.now() - t);
    }
    const row = {
      batch,
      pastTokens: past,
      bareSessionRunMs: {
        p50: round(pct(times, 50)),
        p99: round(pct(times, 99)),
      },
    };
    bare.push(row);
    log(row);
  }
  await session.release();

  writeFileSync(
    join(out, 'node-bench.json'),
    JSON.stringify(
      {
        benchmark: 'engine-gpu',
        provider,
        date: new Date().toISOString(),
        node: process.version,
        onnxruntimeNode: ort.env.versions.common,
        hostCores: cpus().length,
        model: {
          ...shape,
          dtype: 'fp16',
          parameters: made.parameters,
          generateSeconds: round(generateSeconds, 1),
        },
        engine,
        bareDecodeStep: bare,
      },
      null,
      2,
    ) + '\n',
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
