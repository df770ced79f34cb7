/**
 * The engine on the GPU machine (see bench/README.md): generates a GPT-2-124M-shaped fp16 model
 * there, then decodes at batch 1 and 32 with context 512 (prompt 256 + 256 new tokens) through
 * the same TextGenerator the worker uses, on onnxruntime-node and then on Marquee's addon
 * (ORT_RUNTIME=addon), each beside the memory-bandwidth bound, and times a bare `session.run`
 * of a decode step; then the same greedy decode loop (prefill, then one token a step for every row) through
 * onnxruntime-node, which copies the KV cache through the host every step, and through Marquee's
 * addon (native/ort-addon), which keeps it in GPU memory, side by side. Bundled by
 * `bench/gpu/build.sh` (with the addon built by `npm run build:addon` and carried as
 * `native/ort-addon/build`); writes `$OUT/node-bench.json`.
 *
 * Env: OUT (result folder), GPU_BENCH_PROVIDER (`cuda`, default; `cpu` for a rehearsal),
 * GPU_BENCH_QUICK=1 (a tiny model and short runs, to rehearse on a CPU).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCausalLm } from '@marquee/shared/model-maker';
import {
  type DeviceTensor,
  type GenerationParams,
  type HostTensor,
  loadOrtAddon,
  type OrtRuntime,
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

/** H200 HBM3e peak bandwidth, bytes/s (override with GPU_BENCH_BANDWIDTH_GBS). */
const bandwidth = Number(process.env.GPU_BENCH_BANDWIDTH_GBS ?? 4800) * 1e9;

/**
 * The memory-bandwidth bound of one decode step: every weight read once (fp16) and each row's
 * KV cache read once at `context` positions; tokens/s = batch / (bytes / bandwidth).
 */
function bandwidthBound(parameters: number, batch: number, context: number) {
  const kvBytesPerToken = shape.layers * 2 * shape.hidden * 2;
  const bytes = parameters * 2 + batch * context * kvBytesPerToken;
  return {
    batch,
    context,
    bytesPerStep: bytes,
    tokensPerSecond: round(batch / (bytes / bandwidth), 0),
  };
}

async function main() {
  mkdirSync(out, { recursive: true });
  const report: Record<string, unknown> = {
    benchmark: 'engine-gpu',
    command: 'bash bench/gpu/run.sh (see bench/README.md)',
    provider,
    date: new Date().toISOString(),
    node: process.version,
    onnxruntimeNode: ort.env.versions.common,
    hostCores: cpus().length,
  };
  // Written after every section, so a failure or a timeout keeps what was measured.
  const save = () =>
    writeFileSync(
      join(out, 'node-bench.json'),
      JSON.stringify(report, null, 2) + '\n',
    );
  const section = async (name: string, body: () => Promise<unknown>) => {
    try {
      report[name] = await body();
    } catch (error) {
      report[name] = { error: (error as Error).stack ?? String(error) };
      log({ section: name, error: (error as Error).message });
    }
    save();
  };

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
  report.model = {
    ...shape,
    dtype: 'fp16',
    parameters: made.parameters,
    generateSeconds: round(generateSeconds, 1),
  };
  const context = prompt + newTokens;
  report.bandwidthBound = {
    bandwidthGBs: bandwidth / 1e9,
    rows: batches.map((b) => bandwidthBound(made.parameters, b, context)),
  };
  save();

  // The worker's engine (TextGenerator: continuous batching, sampling, streaming) on each
  // runtime, one after the other in this run.
  await section('engine', async () => {
    const rows = [];
    for (const runtime of ['onnxruntime-node', 'addon'] as const)
      for (const row of await engineRuns(made, runtime)) {
        const bound = bandwidthBound(made.parameters, row.batch, context);
        rows.push({
          ...row,
          boundFraction: round(
            row.decodeTokensPerSecond / bound.tokensPerSecond,
            4,
          ),
        });
        log(rows.at(-1));
      }
    return rows;
  });
  await section('bareDecodeStep', () => bareSteps(made.dir));
  await section('decodeLoop', () => decodeLoops(join(made.dir, 'model.onnx')));
}

/** Greedy decoding of `batch` prompts at once through a TextGenerator on `runtime`. */
async function engineRuns(
  made: ReturnType<typeof makeCausalLm>,
  runtime: OrtRuntime,
) {
  const generator = await TextGenerator.load(made.dir, {
    executionProvider: provider,
    runtime,
    onRuntimeFallback: (reason) => log({ runtime, fallback: reason }),
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
    const texts: string[] = [];
    const start = performance.now();
    await Promise.all(
      prompts.map(async (ids) => {
        let last: number | undefined;
        const result = await generator.generate(
          ids,
          { ...params, maxTokens },
          () => {
            const now = performance.now();
            if (last === undefined) firsts.push(now - start);
            else gaps.push(now - last);
            last = now;
          },
        );
        texts.push(result.choices[0].text);
      }),
    );
    return { wallMs: performance.now() - start, firsts, gaps, texts };
  };

  const rows = [];
  try {
    for (const batch of batches) {
      await runBatch(batch, 4); // warm-up: CUDA kernels, allocator, thread pools
      const before = { ...generator.scheduler.stats };
      const { wallMs, firsts, gaps, texts } = await runBatch(batch, newTokens);
      const after = generator.scheduler.stats;
      const decodeMs = wallMs - Math.max(...firsts);
      rows.push({
        runtime: generator.runtime,
        batch,
        promptTokens: prompt,
        newTokens,
        tokensPerSecond: round((batch * newTokens) / (wallMs / 1000), 1),
        decodeTokensPerSecond: round(
          (batch * (newTokens - 1)) / (decodeMs / 1000),
          1,
        ),
        timePerStepMs: {
          p50: round(pct(gaps, 50), 3),
          p99: round(pct(gaps, 99), 3),
        },
        ttftMs: round(Math.max(...firsts)),
        // Of the engine loop's time: the model runs, and the grammar masks (none here).
        forwardShare: round(
          (after.forwardMs - before.forwardMs) / (after.loopMs - before.loopMs),
          3,
        ),
        decodeSteps: after.decodeSteps - before.decodeSteps,
        // Compare across runtimes: the same greedy text for the same prompts.
        textsDigest: digest(texts),
      });
    }
  } finally {
    await generator.dispose();
  }
  return rows;
}

/** A short stable digest of strings (FNV-1a), to compare outputs across runtimes. */
function digest(texts: string[]): string {
  let h = 0x811c9dc5;
  for (const ch of texts.join('\u0000')) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** A bare decode step at the last position (context 512): ORT plus its host copies, no engine. */
async function bareSteps(dir: string) {
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
  });
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
  return bare;
}

/** Index of the largest fp16 value of `row` (fp16 orders like its sign-magnitude bits). */
function argmaxFp16(words: Uint16Array, from: number, to: number): number {
  let best = from;
  let bestKey = -Infinity;
  for (let i = from; i < to; i++) {
    const w = words[i];
    const key = w & 0x8000 ? -(w & 0x7fff) : w;
    if (key > bestKey) {
      bestKey = key;
      best = i;
    }
  }
  return best - from;
}

/**
 * The same greedy decode loop (prefill `prompt` tokens, then `newTokens` steps of one token per
 * row, context 512) through onnxruntime-node and through the addon, at each batch size: the
 * addon binds every `present.*` output to GPU memory and feeds it back as the next step's past,
 * so only ids in and logits out cross PCIe. Both loops pick the same tokens (checked).
 */
async function decodeLoops(modelPath: string) {
  const addon = loadOrtAddon();
  if (!addon) {
    log({
      decodeLoop: 'skipped: the addon is not built (npm run build:addon)',
    });
    return { skipped: 'the addon is not built' };
  }
  const kvNames = Array.from({ length: shape.layers }, (_, l) => [
    `past_key_values.${l}.key`,
    `past_key_values.${l}.value`,
  ]).flat();
  const presentOf = (past: string) =>
    past.replace('past_key_values', 'present');
  const D = shape.hidden / shape.heads;
  const ids = (rows: number[][]): HostTensor => ({
    type: 'int64',
    dims: [rows.length, rows[0].length],
    data: BigInt64Array.from(rows.flat(), (v) => BigInt(v)),
  });
  const stepFeeds = (tokens: number[][], pastLength: number) => {
    const seq = tokens[0].length;
    return {
      input_ids: ids(tokens),
      attention_mask: ids(tokens.map(() => Array(pastLength + seq).fill(1))),
      position_ids: ids(
        tokens.map(() => Array.from({ length: seq }, (_, i) => pastLength + i)),
      ),
    };
  };
  const emptyPast = (batch: number): HostTensor => ({
    type: 'float16',
    dims: [batch, shape.heads, 0, D],
    data: new Uint16Array(0),
  });
  const next = (logits: Uint16Array, batch: number, seq: number) =>
    Array.from({ length: batch }, (_, r) => [
      argmaxFp16(
        logits,
        (r * seq + seq - 1) * shape.vocab,
        (r * seq + seq) * shape.vocab,
      ),
    ]);
  const prompts = (batch: number) =>
    Array.from({ length: batch }, (_, r) =>
      Array.from(
        { length: prompt },
        (_, i) => (r * 131 + i * 17 + 3) % (shape.vocab - 3),
      ),
    );

  type Loop = (
    batch: number,
    steps: number,
  ) => Promise<{ tokens: number[][]; stepMs: number[] }>;
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
  });
  const ortLoop: Loop = async (batch, steps) => {
    let tokens = prompts(batch);
    let pastLength = 0;
    let past: Record<string, ort.Tensor> = {};
    const picked: number[][] = [];
    const stepMs: number[] = [];
    for (let s = 0; s <= steps; s++) {
      const t = performance.now();
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, h] of Object.entries(stepFeeds(tokens, pastLength)))
        feeds[name] = new ort.Tensor('int64', h.data, [...h.dims]);
      for (const name of kvNames) {
        const e = emptyPast(batch);
        feeds[name] =
          past[presentOf(name)] ??
          new ort.Tensor('float16', e.data, [...e.dims]);
      }
      const outs = await session.run(feeds);
      const seq = tokens[0].length;
      pastLength += seq;
      tokens = next(outs.logits.data as Uint16Array, batch, seq);
      past = outs;
      picked.push(tokens.map((t) => t[0]));
      if (s > 0) stepMs.push(performance.now() - t);
    }
    return { tokens: picked, stepMs };
  };
  const native = new addon.NativeSession(modelPath, { provider });
  const addonLoop: Loop = async (batch, steps) => {
    let tokens = prompts(batch);
    let pastLength = 0;
    let past: Record<string, DeviceTensor> = {};
    const outputs = {
      logits: 'host' as const,
      ...Object.fromEntries(
        kvNames.map((n) => [presentOf(n), 'device' as const]),
      ),
    };
    const picked: number[][] = [];
    const stepMs: number[] = [];
    for (let s = 0; s <= steps; s++) {
      const t = performance.now();
      const feeds: Record<string, HostTensor | DeviceTensor> = stepFeeds(
        tokens,
        pastLength,
      );
      for (const name of kvNames)
        feeds[name] = past[presentOf(name)] ?? emptyPast(batch);
      const outs = native.run(feeds, outputs);
      for (const tensor of Object.values(past)) tensor.release();
      past = Object.fromEntries(
        kvNames.map((n) => [presentOf(n), outs[presentOf(n)] as DeviceTensor]),
      );
      const seq = tokens[0].length;
      pastLength += seq;
      tokens = next(outs.logits as Uint16Array, batch, seq);
      picked.push(tokens.map((t) => t[0]));
      if (s > 0) stepMs.push(performance.now() - t);
    }
    for (const tensor of Object.values(past)) tensor.release();
    return { tokens: picked, stepMs };
  };

  const rows = [];
  for (const batch of batches) {
    const row: Record<string, unknown> = {
      batch,
      promptTokens: prompt,
      newTokens,
    };
    const picked: Record<string, number[][]> = {};
    for (const [name, run] of [
      ['onnxruntimeNode', ortLoop],
      ['addon', addonLoop],
    ] as const) {
      await run(batch, 4); // warm-up
      const t = performance.now();
      const { tokens, stepMs } = await run(batch, newTokens);
      const wallMs = performance.now() - t;
      picked[name] = tokens;
      row[name] = {
        // Rows x steps per second at the median step.
        decodeTokensPerSecond: round(batch / (pct(stepMs, 50) / 1000), 1),
        stepMs: {
          p50: round(pct(stepMs, 50), 3),
          p99: round(pct(stepMs, 99), 3),
        },
        wallMs: round(wallMs, 1),
      };
    }
    row.sameTokens =
      JSON.stringify(picked.onnxruntimeNode) === JSON.stringify(picked.addon);
    const ortRow = row.onnxruntimeNode as { stepMs: { p50: number } };
    const addonRow = row.addon as { stepMs: { p50: number } };
    row.stepSpeedup = round(ortRow.stepMs.p50 / addonRow.stepMs.p50, 2);
    rows.push(row);
    log(row);
  }
  native.release();
  await session.release();
  return rows;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
