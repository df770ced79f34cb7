import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_FILES, readModelManifest } from '@marquee/shared/model-format';
import * as ort from 'onnxruntime-node';
import { float16ToFloat32 } from './fp16';
import type { Gpt2Weights } from './index';
import { makeCausalLm, readGpt2Weights, referenceForward } from './index';

const SHAPE = { layers: 2, hidden: 32, heads: 4, vocab: 300, context: 64 };
const KV = ['key', 'value'] as const;

interface OrtResult {
  logits: Float32Array;
  present: Array<{ key: ort.Tensor; value: ort.Tensor }>;
}

/** Runs the ONNX model with Optimum-style feeds; `past` defaults to empty caches. */
async function runOrt(
  session: ort.InferenceSession,
  dtype: 'fp32' | 'fp16',
  ids: readonly (readonly number[])[],
  mask: readonly (readonly number[])[],
  positions: readonly (readonly number[])[],
  past?: OrtResult['present'],
): Promise<OrtResult> {
  const int64 = (rows: readonly (readonly number[])[]) =>
    new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [
      rows.length,
      rows[0].length,
    ]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids),
    attention_mask: int64(mask),
    position_ids: int64(positions),
  };
  const headDim = SHAPE.hidden / SHAPE.heads;
  for (let i = 0; i < SHAPE.layers; i++) {
    for (const kv of KV) {
      feeds[`past_key_values.${i}.${kv}`] =
        past?.[i][kv] ??
        (dtype === 'fp16'
          ? new ort.Tensor('float16', new Uint16Array(0), [
              ids.length,
              SHAPE.heads,
              0,
              headDim,
            ])
          : new ort.Tensor('float32', new Float32Array(0), [
              ids.length,
              SHAPE.heads,
              0,
              headDim,
            ]));
    }
  }
  const out = await session.run(feeds);
  const logits = out.logits.data;
  return {
    logits:
      logits instanceof Uint16Array
        ? float16ToFloat32(logits)
        : (logits as Float32Array),
    present: Array.from({ length: SHAPE.layers }, (_, i) => ({
      key: out[`present.${i}.key`],
      value: out[`present.${i}.value`],
    })),
  };
}

function asNumbers(t: ort.Tensor): Float64Array {
  return t.data instanceof Uint16Array
    ? Float64Array.from(float16ToFloat32(t.data))
    : Float64Array.from(t.data as Float32Array);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Logits of batch row `b`, position `s`. */
function row(
  logits: ArrayLike<number>,
  seq: number,
  b: number,
  s: number,
): number[] {
  const start = (b * seq + s) * SHAPE.vocab;
  return Array.from({ length: SHAPE.vocab }, (_, v) => logits[start + v]);
}

const ones = (n: number) => Array<number>(n).fill(1);
const range = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => from + i);
const PROMPT = [17, 250, 3, 99, 120, 42, 7];

describe('makeCausalLm (fp32)', () => {
  let dir: string;
  let session: ort.InferenceSession;
  let weights: Gpt2Weights;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'marquee-lm-'));
    makeCausalLm({ ...SHAPE, out: dir, dtype: 'fp32', seed: 7 });
    session = await ort.InferenceSession.create(join(dir, MODEL_FILES.onnx), {
      intraOpNumThreads: 1,
    });
    weights = readGpt2Weights(dir);
  });
  afterAll(async () => {
    await session?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the Optimum folder layout with a valid manifest', async () => {
    for (const file of [
      MODEL_FILES.onnx,
      MODEL_FILES.tokenizer,
      MODEL_FILES.tokenizerConfig,
      MODEL_FILES.config,
      MODEL_FILES.generationConfig,
      MODEL_FILES.manifest,
    ]) {
      expect(existsSync(join(dir, file))).toBe(true);
    }
    expect(existsSync(join(dir, MODEL_FILES.onnxData))).toBe(false);
    await expect(readModelManifest(dir)).resolves.toMatchObject({
      task: 'text-generation',
      dtype: 'fp32',
      contextLength: 64,
      eosTokenId: 299,
      architecture: 'gpt2',
    });
    const config = JSON.parse(
      readFileSync(join(dir, MODEL_FILES.config), 'utf8'),
    );
    expect(config).toMatchObject({
      model_type: 'gpt2',
      n_layer: 2,
      n_head: 4,
      n_embd: 32,
      vocab_size: 300,
      n_positions: 64,
    });
  });

  it('exposes Optimum input and output names', () => {
    expect(session.inputNames).toEqual([
      'input_ids',
      'attention_mask',
      'position_ids',
      'past_key_values.0.key',
      'past_key_values.0.value',
      'past_key_values.1.key',
      'past_key_values.1.value',
    ]);
    expect(session.outputNames).toEqual([
      'logits',
      'present.0.key',
      'present.0.value',
      'present.1.key',
      'present.1.value',
    ]);
  });

  it('gives the same logits and present key/values as the reference forward pass for a prompt', async () => {
    const args = [
      [PROMPT],
      [ones(PROMPT.length)],
      [range(0, PROMPT.length)],
    ] as const;
    const got = await runOrt(session, 'fp32', ...args);
    const want = referenceForward(weights, ...args);
    expect(maxAbsDiff(got.logits, want.logits)).toBeLessThan(1e-4);
    expect(
      maxAbsDiff(asNumbers(got.present[1].value), want.present[1].value),
    ).toBeLessThan(1e-4);
    expect(got.present[0].key.dims).toEqual([
      1,
      SHAPE.heads,
      PROMPT.length,
      SHAPE.hidden / SHAPE.heads,
    ]);
  });

  it('decodes a token with past_key_values to the logits of the full sequence at its last position', async () => {
    const n = PROMPT.length;
    const prefill = await runOrt(
      session,
      'fp32',
      [PROMPT.slice(0, n - 1)],
      [ones(n - 1)],
      [range(0, n - 1)],
    );
    const step = await runOrt(
      session,
      'fp32',
      [[PROMPT[n - 1]]],
      [ones(n)],
      [[n - 1]],
      prefill.present,
    );
    const full = referenceForward(weights, [PROMPT], [ones(n)], [range(0, n)]);
    expect(maxAbsDiff(step.logits, row(full.logits, n, 0, n - 1))).toBeLessThan(
      1e-4,
    );
  });

  it('applies the causal mask across past and a multi-token chunk', async () => {
    const n = PROMPT.length;
    const prefill = await runOrt(
      session,
      'fp32',
      [PROMPT.slice(0, 3)],
      [ones(3)],
      [range(0, 3)],
    );
    const chunk = await runOrt(
      session,
      'fp32',
      [PROMPT.slice(3)],
      [ones(n)],
      [range(3, n - 3)],
      prefill.present,
    );
    const full = referenceForward(weights, [PROMPT], [ones(n)], [range(0, n)]);
    const want = range(3, n - 3).flatMap((s) => row(full.logits, n, 0, s));
    expect(maxAbsDiff(chunk.logits, want)).toBeLessThan(1e-4);
  });

  it('gives each row of a left-padded batch the logits it gets alone, at prefill and decode', async () => {
    const long = PROMPT;
    const short = [5, 6, 200, 8];
    const pad = long.length - short.length;
    const ids = [long, [...Array<number>(pad).fill(299), ...short]];
    const mask = [
      ones(long.length),
      [...Array<number>(pad).fill(0), ...ones(short.length)],
    ];
    const positions = [
      range(0, long.length),
      [...Array<number>(pad).fill(1), ...range(0, short.length)],
    ];
    const batch = await runOrt(session, 'fp32', ids, mask, positions);

    const aloneLong = await runOrt(
      session,
      'fp32',
      [long],
      [ones(long.length)],
      [range(0, long.length)],
    );
    const aloneShort = await runOrt(
      session,
      'fp32',
      [short],
      [ones(short.length)],
      [range(0, short.length)],
    );
    expect(
      maxAbsDiff(
        row(batch.logits, long.length, 0, long.length - 1),
        row(aloneLong.logits, long.length, 0, long.length - 1),
      ),
    ).toBeLessThan(1e-4);
    for (let s = 0; s < short.length; s++) {
      expect(
        maxAbsDiff(
          row(batch.logits, long.length, 1, pad + s),
          row(aloneShort.logits, short.length, 0, s),
        ),
      ).toBeLessThan(1e-4);
    }
    const reference = referenceForward(weights, ids, mask, positions);
    expect(
      maxAbsDiff(
        row(batch.logits, long.length, 1, long.length - 1),
        row(reference.logits, long.length, 1, long.length - 1),
      ),
    ).toBeLessThan(1e-4);

    const next = [[11], [12]];
    const step = await runOrt(
      session,
      'fp32',
      next,
      mask.map((m) => [...m, 1]),
      [[long.length], [short.length]],
      batch.present,
    );
    const shortStep = await runOrt(
      session,
      'fp32',
      [[...short, 12]],
      [ones(short.length + 1)],
      [range(0, short.length + 1)],
    );
    expect(
      maxAbsDiff(
        row(step.logits, 1, 1, 0),
        row(shortStep.logits, short.length + 1, 0, short.length),
      ),
    ).toBeLessThan(1e-4);
  });
});

describe('makeCausalLm (fp16 and external data)', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'marquee-lm-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() =>
    dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })),
  );

  it('writes an fp16 model that outputs fp16 logits close to the reference, prefill and decode', async () => {
    const dir = tempDir();
    makeCausalLm({ ...SHAPE, out: dir, dtype: 'fp16' });
    const session = await ort.InferenceSession.create(
      join(dir, MODEL_FILES.onnx),
      { intraOpNumThreads: 1 },
    );
    const weights = readGpt2Weights(dir);
    expect(weights.dtype).toBe('fp16');
    const n = PROMPT.length;
    const prefill = await runOrt(
      session,
      'fp16',
      [PROMPT.slice(0, n - 1)],
      [ones(n - 1)],
      [range(0, n - 1)],
    );
    expect(prefill.present[0].key.type).toBe('float16');
    const step = await runOrt(
      session,
      'fp16',
      [[PROMPT[n - 1]]],
      [ones(n)],
      [[n - 1]],
      prefill.present,
    );
    const full = referenceForward(weights, [PROMPT], [ones(n)], [range(0, n)]);
    expect(
      maxAbsDiff(
        prefill.logits,
        full.logits.subarray(0, (n - 1) * SHAPE.vocab),
      ),
    ).toBeLessThan(5e-3);
    expect(maxAbsDiff(step.logits, row(full.logits, n, 0, n - 1))).toBeLessThan(
      5e-3,
    );
    await session.release();
  });

  it('stores weights in model.onnx_data when asked, and both ONNX Runtime and the reference read them', async () => {
    const dir = tempDir();
    const made = makeCausalLm({ ...SHAPE, out: dir, externalData: true });
    expect(made.files).toContain(MODEL_FILES.onnxData);
    expect(readFileSync(join(dir, MODEL_FILES.onnx)).byteLength).toBeLessThan(
      20_000,
    );
    const session = await ort.InferenceSession.create(
      join(dir, MODEL_FILES.onnx),
      { intraOpNumThreads: 1 },
    );
    const args = [
      [PROMPT],
      [ones(PROMPT.length)],
      [range(0, PROMPT.length)],
    ] as const;
    const got = await runOrt(session, 'fp32', ...args);
    expect(
      maxAbsDiff(got.logits, referenceForward(dir, ...args).logits),
    ).toBeLessThan(1e-4);
    await session.release();
  });

  it('writes byte-identical files for the same seed and different weights for another seed', () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    makeCausalLm({ ...SHAPE, out: a, seed: 1 });
    makeCausalLm({ ...SHAPE, out: b, seed: 1 });
    makeCausalLm({ ...SHAPE, out: c, seed: 2 });
    const bytes = (dir: string, file: string = MODEL_FILES.onnx) =>
      readFileSync(join(dir, file));
    expect(bytes(a).equals(bytes(b))).toBe(true);
    expect(
      bytes(a, MODEL_FILES.tokenizer).equals(bytes(b, MODEL_FILES.tokenizer)),
    ).toBe(true);
    expect(bytes(a).equals(bytes(c))).toBe(false);
  });

  it('rejects a hidden size that heads do not divide, and a vocab too small for the byte tokens', () => {
    expect(() =>
      makeCausalLm({ ...SHAPE, hidden: 30, out: tempDir() }),
    ).toThrow(/divisible/);
    expect(() =>
      makeCausalLm({ ...SHAPE, vocab: 100, out: tempDir() }),
    ).toThrow(/vocab/);
  });
});
