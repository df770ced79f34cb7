/**
 * `npm run bench:engine`: the inference engine alone on this machine's CPU. Continuous-batching
 * throughput, time to first token and inter-token latency at 1, 8 and 32 concurrent sequences;
 * the engine's overhead over a bare `session.run` on decode tensors of the same shape; embeddings
 * throughput against batch size; and a long prompt arriving while short sequences decode: their
 * stall and their step time afterwards, with the prompt prefilled whole or in chunks and with
 * one padded batch or length groups, side by side in one run; and the per-step cost of
 * grammar-constrained decoding (JSON Schema) against free decoding, at two vocabulary sizes. Writes
 * `bench/results/engine-cpu-<date>.json`.
 *
 * Options (env): BENCH_OUT (result file), BENCH_THREADS (ONNX intra-op threads, default: cores),
 * BENCH_NEW_TOKENS (default 64), BENCH_QUICK=1 (tiny sizes, for a smoke run).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { makeCausalLm, makeEncoder } from '@marquee/shared/model-maker';
import {
  Embedder,
  type GenerationParams,
  type SchedulerLimits,
  bundledPaddleOcr,
  loadOrtAddon,
  type OrtRuntime,
  OcrModel,
  TextGenerator,
} from '@marquee/worker/inference';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import * as ort from 'onnxruntime-node';

const quick = process.env.BENCH_QUICK === '1';
const threads = Number(process.env.BENCH_THREADS ?? cpus().length);
const newTokens = Number(process.env.BENCH_NEW_TOKENS ?? (quick ? 8 : 64));
const promptTokens = quick ? 8 : 32;
const concurrencies = quick ? [1, 4] : [1, 8, 32];
const lm = quick
  ? { layers: 2, hidden: 64, heads: 4, vocab: 512, context: 128 }
  : { layers: 4, hidden: 256, heads: 4, vocab: 4096, context: 2048 };
/** The grammar bench's second model: GPT-2's vocabulary size. */
const wideVocabLm = quick
  ? { layers: 1, hidden: 32, heads: 2, vocab: 2048, context: 128 }
  : { layers: 2, hidden: 64, heads: 4, vocab: 50257, context: 512 };
/** Chunked-prefill scenario: a long prompt arrives while short ones decode. */
const longPrompt = quick
  ? { tokens: 96, chunk: 16, running: 2 }
  : { tokens: 1536, chunk: 256, running: 8 };
const encoder = quick
  ? { layers: 1, hidden: 32, heads: 2, vocab: 300, context: 64 }
  : { layers: 4, hidden: 256, heads: 4, vocab: 4096, context: 128 };
const embeddingBatches = quick ? [1, 4] : [1, 4, 16, 64];
const embeddingInputs = quick ? 16 : 256;

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ];
};
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

async function decodeBench(
  generator: TextGenerator,
  eos: number[],
  { prompt = promptTokens, levels = concurrencies, quiet = false } = {},
) {
  const results = [];
  for (const concurrency of levels) {
    const stats = { ...generator.scheduler.stats };
    const prompts = Array.from({ length: concurrency }, (_, r) =>
      Array.from(
        { length: prompt },
        (_, i) => (r * 131 + i * 17 + 3) % (lm.vocab - 3),
      ),
    );
    // Greedy with EOS banned: every sequence runs exactly `newTokens` steps.
    const params: GenerationParams = {
      maxTokens: newTokens,
      n: 1,
      temperature: 0,
      topP: 1,
      stop: [],
      logitBias: Object.fromEntries(eos.map((id) => [id, -100])),
    };
    const ttft: number[] = [];
    const gaps: number[] = [];
    const started = performance.now();
    await Promise.all(
      prompts.map(async (ids) => {
        const submitted = performance.now();
        let last: number | undefined;
        await generator.generate(ids, params, () => {
          const now = performance.now();
          if (last === undefined) ttft.push(now - submitted);
          else gaps.push(now - last);
          last = now;
        });
      }),
    );
    const wallMs = performance.now() - started;
    const after = generator.scheduler.stats;
    const decodeSteps = after.decodeSteps - stats.decodeSteps;
    results.push({
      concurrency,
      promptTokens: prompt,
      newTokens,
      tokensPerSecond: round((concurrency * newTokens) / (wallMs / 1000), 1),
      wallMs: round(wallMs, 1),
      ttftMs: {
        p50: round(percentile(ttft, 50)),
        p99: round(percentile(ttft, 99)),
      },
      interTokenMs: {
        p50: round(percentile(gaps, 50)),
        p99: round(percentile(gaps, 99)),
      },
      decodeSteps,
      meanDecodeBatch: round(
        (after.decodeRows - stats.decodeRows) / decodeSteps,
        2,
      ),
      prefills: after.prefills - stats.prefills,
      forwardMsShare: round(
        (after.forwardMs - stats.forwardMs) / (after.loopMs - stats.loopMs),
        3,
      ),
    });
    if (!quiet) console.log(JSON.stringify(results.at(-1)));
  }
  return results;
}

/**
 * The same decode load through onnxruntime-node and through Marquee's ONNX Runtime addon
 * (KV cache kept in the session's memory, batches gathered natively), alternating runs so both
 * see the same machine load; at a short and a long prompt, where copying the cache costs more.
 */
async function runtimeBench(dir: string, eos: number[]) {
  if (!loadOrtAddon())
    return { skipped: 'the addon is not built (npm run build:addon)' };
  const load = (runtime: OrtRuntime) =>
    TextGenerator.load(dir, {
      intraOpThreads: threads,
      runtime,
      scheduler: { maxBatchSize: 32 },
    });
  const generators = {
    onnxruntimeNode: await load('onnxruntime-node'),
    addon: await load('addon'),
  };
  const rows = [];
  try {
    for (const prompt of quick ? [8, 48] : [32, 1024]) {
      for (const concurrency of quick ? [4] : [8, 32]) {
        const best: Record<string, number> = {};
        for (let pass = 0; pass < (quick ? 1 : 2); pass++)
          for (const [name, generator] of Object.entries(generators)) {
            const [row] = await decodeBench(generator, eos, {
              prompt,
              levels: [concurrency],
              quiet: true,
            });
            best[name] = Math.max(best[name] ?? 0, row.tokensPerSecond);
          }
        rows.push({
          promptTokens: prompt,
          concurrency,
          newTokens,
          tokensPerSecond: best,
          addonOverOnnxruntimeNode: round(best.addon / best.onnxruntimeNode, 2),
        });
        console.log(JSON.stringify(rows.at(-1)));
      }
    }
  } finally {
    await generators.onnxruntimeNode.dispose();
    await generators.addon.dispose();
  }
  return rows;
}

/** Always continuable, so a constrained sequence runs as many steps as a free one. */
const OPEN_ENDED_SCHEMA = {
  type: 'object',
  properties: { lines: { type: 'array', items: { type: 'string' } } },
  required: ['lines'],
};

/**
 * The grammar mask's cost per decode step: the same requests (sampled, EOS banned) decode free
 * and held to a JSON Schema, side by side at each concurrency. The mask of each constrained
 * sequence is computed before each model run; `maskMsPerStep` is that work, `stepMs` what a step
 * took in all, `throughputRatio` constrained tokens/s over free.
 */
async function grammarBench(
  generator: TextGenerator,
  eos: number[],
  vocab: number,
) {
  const results = [];
  for (const concurrency of concurrencies) {
    const row: Record<string, unknown> = { vocab, concurrency, newTokens };
    for (const constrained of [false, true, false, true]) {
      const before = { ...generator.scheduler.stats };
      const params: GenerationParams = {
        maxTokens: newTokens,
        n: 1,
        temperature: 1,
        topP: 1,
        seed: 1,
        stop: [],
        logitBias: Object.fromEntries(eos.map((id) => [id, -100])),
        ...(constrained
          ? {
              constraint: {
                kind: 'json_schema' as const,
                schema: OPEN_ENDED_SCHEMA,
              },
            }
          : {}),
      };
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, (_, r) =>
          generator.generate(
            Array.from(
              { length: promptTokens },
              (_, i) => (r * 131 + i * 17 + 3) % (vocab - 3),
            ),
            params,
            () => undefined,
          ),
        ),
      );
      const wallMs = performance.now() - started;
      const after = generator.scheduler.stats;
      const steps = after.decodeSteps - before.decodeSteps;
      const tokens = after.tokens - before.tokens;
      // The first pass of each kind warms up (grammar compile, allocations); the second counts.
      // A constrained sequence whose JSON closes ends early (only EOS may follow): counts come
      // from the scheduler, not from the request sizes.
      row[constrained ? 'constrained' : 'free'] = {
        tokensPerSecond: round(tokens / (wallMs / 1000), 1),
        stepMs: round(wallMs / steps, 3),
        meanDecodeBatch: round(
          (after.decodeRows - before.decodeRows) / steps,
          2,
        ),
        maskMsPerStep: round((after.maskMs - before.maskMs) / steps, 3),
      };
    }
    const free = row.free as { tokensPerSecond: number };
    const held = row.constrained as { tokensPerSecond: number };
    row.throughputRatio = round(held.tokensPerSecond / free.tokensPerSecond, 3);
    results.push(row);
    console.log(JSON.stringify(row));
  }
  return results;
}

/**
 * `running` short sequences decode; once each has streamed a quarter of its tokens (at most 8), one long prompt arrives. The
 * running sequences' longest gap between two tokens is the stall the prefill caused; the long
 * request's time to first token is what chunking costs it.
 */
async function longPromptBench(
  modelDir: string,
  limits: Pick<SchedulerLimits, 'maxPrefillTokens' | 'freePaddingTokens'>,
  eos: number[],
) {
  const generator = await TextGenerator.load(modelDir, {
    intraOpThreads: threads,
    scheduler: { maxBatchSize: 32, ...limits },
  });
  const params = (maxTokens: number): GenerationParams => ({
    maxTokens,
    n: 1,
    temperature: 0,
    topP: 1,
    stop: [],
    logitBias: Object.fromEntries(eos.map((id) => [id, -100])),
  });
  const run = async () => {
    // Gaps between consecutive tokens of the first running sequence: [start, end] in ms.
    const gaps: { start: number; end: number }[] = [];
    let streamed = 0;
    let arrivedAt = NaN;
    let firstTokenAt = NaN;
    let longDoneAt = NaN;
    let arrive: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => (arrive = resolve));
    const short = Array.from({ length: longPrompt.running }, (_, r) => {
      let last: number | undefined;
      return generator.generate(
        Array.from(
          { length: promptTokens },
          (_, i) => (r * 97 + i) % (lm.vocab - 3),
        ),
        params(newTokens),
        () => {
          const now = performance.now();
          if (r === 0 && last !== undefined)
            gaps.push({ start: last, end: now });
          last = now;
          if (
            ++streamed >=
            longPrompt.running * Math.ceil(Math.min(8, newTokens / 4))
          )
            arrive();
        },
      );
    });
    const long = arrival.then(() => {
      arrivedAt = performance.now();
      return generator
        .generate(
          Array.from(
            { length: longPrompt.tokens },
            (_, i) => (i * 13 + 5) % (lm.vocab - 3),
          ),
          params(16),
          () => {
            if (Number.isNaN(firstTokenAt)) firstTokenAt = performance.now();
          },
        )
        .finally(() => (longDoneAt = performance.now()));
    });
    // A short prompt arriving just after the long one: how long until its first token.
    const late = arrival.then(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const submitted = performance.now();
      let ttft = NaN;
      await generator.generate(
        Array.from(
          { length: promptTokens },
          (_, i) => (i * 7 + 3) % (lm.vocab - 3),
        ),
        params(8),
        () => {
          if (Number.isNaN(ttft)) ttft = performance.now() - submitted;
        },
      );
      return ttft;
    });
    const [lateTtftMs] = await Promise.all([late, ...short, long]);
    const ms = (g: { start: number; end: number }) => g.end - g.start;
    return {
      stepMsBefore: percentile(
        gaps.filter((g) => g.end <= arrivedAt).map(ms),
        50,
      ),
      // The gaps that overlap the long prompt's prefill: the running sequence's stall.
      stallMs: Math.max(
        ...gaps
          .filter((g) => g.end > arrivedAt && g.start < firstTokenAt)
          .map(ms),
      ),
      stepMsAfterJoin: percentile(
        gaps
          .filter((g) => g.start >= firstTokenAt && g.end <= longDoneAt)
          .map(ms),
        50,
      ),
      longPromptTtftMs: firstTokenAt - arrivedAt,
      shortArrivingTtftMs: lateTtftMs,
    };
  };
  await run(); // warm-up
  const measured = await run();
  await generator.dispose();
  return {
    ...limits,
    runningSequences: longPrompt.running,
    longPromptTokens: longPrompt.tokens,
    runningStepMsBefore: round(measured.stepMsBefore),
    runningStallMs: round(measured.stallMs),
    runningStepMsAfterJoin: round(measured.stepMsAfterJoin),
    longPromptTtftMs: round(measured.longPromptTtftMs),
    shortArrivingTtftMs: round(measured.shortArrivingTtftMs),
  };
}

/** A bare `session.run` on decode-step tensors (batch B, past length P): no engine around it. */
async function bareRun(
  modelDir: string,
  batch: number,
  past: number,
  runs: number,
) {
  const session = await ort.InferenceSession.create(
    join(modelDir, 'model.onnx'),
    {
      intraOpNumThreads: threads,
      graphOptimizationLevel: 'all',
    },
  );
  const D = lm.hidden / lm.heads;
  const int64 = (values: number[], dims: number[]) =>
    new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(new Array(batch).fill(7), [batch, 1]),
    attention_mask: int64(new Array(batch * (past + 1)).fill(1), [
      batch,
      past + 1,
    ]),
    position_ids: int64(new Array(batch).fill(past), [batch, 1]),
  };
  for (let l = 0; l < lm.layers; l++)
    for (const kind of ['key', 'value'])
      feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor(
        'float32',
        new Float32Array(batch * lm.heads * past * D).fill(0.01),
        [batch, lm.heads, past, D],
      );
  const times: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const t = performance.now();
    await session.run(feeds);
    if (i >= 3) times.push(performance.now() - t);
  }
  await session.release();
  return {
    p50: percentile(times, 50),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
  };
}

async function embeddingBench(dir: string) {
  const results = [];
  for (const batch of embeddingBatches) {
    const embedder = await Embedder.load(dir, {
      intraOpThreads: threads,
      batching: { maxBatchSize: batch, maxDelayMs: 1 },
    });
    const inputs = Array.from({ length: embeddingInputs }, (_, r) =>
      Array.from(
        { length: 32 },
        (_, i) => (r * 29 + i * 7 + 1) % (encoder.vocab - 3),
      ),
    );
    await embedder.embed(inputs.slice(0, batch)); // warm-up
    const started = performance.now();
    await Promise.all(inputs.map((ids) => embedder.embed([ids])));
    const wallMs = performance.now() - started;
    results.push({
      maxBatchSize: batch,
      inputs: embeddingInputs,
      tokensPerInput: 32,
      inputsPerSecond: round(embeddingInputs / (wallMs / 1000), 1),
      runs: embedder.stats.runs - 1,
    });
    console.log(JSON.stringify(results.at(-1)));
    await embedder.dispose();
  }
  return results;
}

/** A poster-like image (title and two credit lines) drawn with the test font. */
function renderPoster(seed: number): Buffer {
  const canvas = createCanvas(800, 500);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, 800, 500);
  ctx.fillStyle = '#111111';
  ctx.font = 'bold 64px MarqueeBenchSans';
  ctx.fillText(`THE LAST HEIST ${seed}`, 80, 140);
  ctx.font = '32px MarqueeBenchSans';
  ctx.fillText('Directed by Mara Quinlan', 200, 260);
  ctx.font = '28px MarqueeBenchSans';
  ctx.fillText(`In cinemas ${seed + 1} March 2027`, 220, 380);
  return canvas.toBuffer('image/png');
}

/**
 * PaddleOCR PP-OCRv4 (trained weights) through OcrModel: 8 poster images read one after
 * another (batch 1), then 8 at once, whose crops share recognition runs (batch 8).
 */
async function ocrBench() {
  GlobalFonts.registerFromPath(
    join(
      require.resolve('dejavu-fonts-ttf/package.json'),
      '..',
      'ttf',
      'DejaVuSans.ttf',
    ),
    'MarqueeBenchSans',
  );
  const model = await OcrModel.load(bundledPaddleOcr(), {
    intraOpThreads: threads,
  });
  const images = Array.from({ length: 8 }, (_, i) => renderPoster(i + 1));
  await model.read(images[0]); // warm-up
  const rows = [];
  try {
    for (const concurrency of [1, 8]) {
      const runs = { ...model.stats };
      const latencies: number[] = [];
      const read = async (image: Buffer) => {
        const started = performance.now();
        const result = await model.read(image);
        latencies.push(performance.now() - started);
        return result;
      };
      const started = performance.now();
      const results = [];
      for (let i = 0; i < images.length; i += concurrency)
        results.push(
          ...(await Promise.all(images.slice(i, i + concurrency).map(read))),
        );
      const wallMs = performance.now() - started;
      rows.push({
        concurrency,
        images: images.length,
        imagesPerSecond: round(images.length / (wallMs / 1000), 2),
        latencyMs: {
          p50: round(percentile(latencies, 50), 1),
          max: round(Math.max(...latencies), 1),
        },
        recognitionRuns: model.stats.recognitionRuns - runs.recognitionRuns,
        cropsPerRecognitionRun: round(
          (model.stats.recognizedCrops - runs.recognizedCrops) /
            (model.stats.recognitionRuns - runs.recognitionRuns),
          2,
        ),
        linesRead: results.reduce((sum, r) => sum + r.lines.length, 0),
      });
      console.log(JSON.stringify(rows.at(-1)));
    }
  } finally {
    await model.release();
  }
  return {
    image: { width: 800, height: 500, lines: 3 },
    runs: rows,
    batchingGain: round(rows[1].imagesPerSecond / rows[0].imagesPerSecond, 2),
  };
}

async function main() {
  const loadBefore = loadavg();
  const root = mkdtempSync(join(tmpdir(), 'mq-bench-'));
  try {
    const made = makeCausalLm({
      out: join(root, 'lm'),
      name: 'bench-lm',
      ...lm,
      dtype: 'fp32',
      seed: 1,
    });
    const generator = await TextGenerator.load(made.dir, {
      intraOpThreads: threads,
      scheduler: { maxBatchSize: 32 },
    });
    const eos = [made.tokenIds.endOfText, made.tokenIds.imEnd];
    await decodeBench(generator, eos); // warm-up pass (allocations, thread pools)
    const decode = await decodeBench(generator, eos);
    const grammar = [...(await grammarBench(generator, eos, lm.vocab))];
    await generator.dispose();
    const runtimes = await runtimeBench(made.dir, eos);
    // A GPT-2-sized vocabulary, on a model small enough that the mask's share shows.
    const wide = makeCausalLm({
      out: join(root, 'wide'),
      name: 'bench-wide-vocab',
      ...wideVocabLm,
      dtype: 'fp32',
      seed: 3,
    });
    const wideGenerator = await TextGenerator.load(wide.dir, {
      intraOpThreads: threads,
      scheduler: { maxBatchSize: 32 },
    });
    grammar.push(
      ...(await grammarBench(
        wideGenerator,
        [wide.tokenIds.endOfText, wide.tokenIds.imEnd],
        wideVocabLm.vocab,
      )),
    );
    await wideGenerator.dispose();

    // Mean past length of a decode step: prompt + half the new tokens.
    const past = promptTokens + Math.floor(newTokens / 2);
    const overhead = [];
    for (const row of decode) {
      const bare = await bareRun(
        made.dir,
        row.concurrency,
        past,
        quick ? 5 : 30,
      );
      overhead.push({
        batch: row.concurrency,
        pastTokens: past,
        bareSessionRunMs: {
          p50: round(bare.p50, 3),
          mean: round(bare.mean, 3),
        },
        engineStepMs: row.interTokenMs.p50,
        overheadPercent: round((row.interTokenMs.p50 / bare.p50 - 1) * 100, 1),
      });
      console.log(JSON.stringify(overhead.at(-1)));
    }

    // The engine before chunking and length groups, with chunking only, and as it is now.
    const longPromptRuns = [];
    for (const limits of [
      { maxPrefillTokens: longPrompt.tokens, freePaddingTokens: Infinity },
      { maxPrefillTokens: longPrompt.chunk, freePaddingTokens: Infinity },
      { maxPrefillTokens: longPrompt.chunk, freePaddingTokens: 64 },
    ]) {
      longPromptRuns.push(await longPromptBench(made.dir, limits, eos));
      console.log(JSON.stringify(longPromptRuns.at(-1)));
    }
    const [before, chunkedOnly, now] = longPromptRuns;
    const longPromptArrives = {
      runs: longPromptRuns.map((r) => ({
        ...r,
        // JSON has no Infinity: null means one padded batch.
        freePaddingTokens: Number.isFinite(r.freePaddingTokens)
          ? r.freePaddingTokens
          : null,
      })),
      // Chunking alone, then chunking with length groups (the stall window ends with the first
      // decode step after the long prompt joins, which length groups shorten).
      stallRatioChunking: round(
        before.runningStallMs / chunkedOnly.runningStallMs,
        2,
      ),
      stallRatioChunkingAndGroups: round(
        before.runningStallMs / now.runningStallMs,
        2,
      ),
      shortArrivingTtftRatio: round(
        before.shortArrivingTtftMs / now.shortArrivingTtftMs,
        2,
      ),
      stepAfterJoinRatioGroups: round(
        chunkedOnly.runningStepMsAfterJoin / now.runningStepMsAfterJoin,
        2,
      ),
    };

    const enc = makeEncoder({
      out: join(root, 'enc'),
      name: 'bench-enc',
      ...encoder,
      seed: 2,
    });
    const embeddings = await embeddingBench(enc.dir);
    const ocr = await ocrBench();

    const one = decode.find((r) => r.concurrency === 1)?.tokensPerSecond ?? NaN;
    const most = decode.at(-1);
    const result = {
      benchmark: 'engine-cpu',
      command: 'npm run bench:engine' + (quick ? ' (BENCH_QUICK=1)' : ''),
      date: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model,
        cores: cpus().length,
        memoryGiB: round(totalmem() / 2 ** 30, 1),
        platform: `${platform()} ${release()}`,
        node: process.version,
        onnxruntimeNode: ort.env.versions.common,
        intraOpThreads: threads,
        // Other processes' load skews CPU figures; recorded so readers can judge.
        loadAverage1m: {
          before: round(loadBefore[0]),
          after: round(loadavg()[0]),
        },
      },
      model: {
        causalLm: { ...lm, dtype: 'fp32', parameters: made.parameters },
        encoder: { ...encoder, parameters: enc.parameters },
      },
      decode,
      continuousBatchingGain: {
        concurrency: most?.concurrency,
        throughputRatio: round((most?.tokensPerSecond ?? NaN) / one, 2),
      },
      engineOverhead: overhead,
      runtimes,
      grammarMask: grammar,
      longPromptArrives,
      embeddings,
      ocr,
    };
    const out =
      process.env.BENCH_OUT ??
      join(
        __dirname,
        'results',
        `engine-cpu-${result.date.slice(0, 10)}${quick ? '-quick' : ''}.json`,
      );
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    console.log(
      `wrote ${relative(process.cwd(), out)}: ${most?.concurrency} concurrent = ${result.continuousBatchingGain.throughputRatio}x the tokens/s of 1`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
