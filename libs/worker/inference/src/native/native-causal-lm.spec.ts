import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCausalLm, type MadeModel } from '@marquee/shared/model-maker';
import { InferenceError } from '../inference-error';
import { TextGenerator } from '../text-generator';
import type { GenerationParams, GenerationResult, OrtRuntime } from '../types';
import { loadOrtAddon, ortAddonPath } from './ort-addon';

const addon = loadOrtAddon();
if (!addon)
  throw new Error(
    `the ONNX Runtime addon is not built at ${ortAddonPath()}: run npm run build:addon`,
  );

const params = (over: Partial<GenerationParams>): GenerationParams => ({
  maxTokens: 12,
  n: 1,
  temperature: 0,
  topP: 1,
  stop: [],
  ...over,
});

/**
 * A mixed load submitted at once: prompts of different lengths (several length groups, rows
 * gathered as sequences join and leave), n = 3 from one prefill (rows tiled), sampling with a
 * seed, logprobs, a prompt longer than one prefill run (chunks) and choices ending early.
 */
function workload(generator: TextGenerator) {
  const words =
    'the studio opened the film with a long shot of the city at night'.split(
      ' ',
    );
  const prompt = (length: number) =>
    generator.encode({
      kind: 'text',
      text: Array.from({ length }, (_, i) => words[i % words.length]).join(' '),
    });
  const requests: [number[], GenerationParams][] = [
    [prompt(3), params({ maxTokens: 20 })],
    [prompt(9), params({ n: 3, temperature: 0.9, topP: 0.9, seed: 7 })],
    [prompt(40), params({ maxTokens: 16, logprobs: 3 })],
    [prompt(2), params({ maxTokens: 2 })],
    [prompt(17), params({ temperature: 1, seed: 11, topK: 20, maxTokens: 24 })],
    [prompt(5), params({ n: 2, temperature: 1.2, seed: 3, maxTokens: 6 })],
  ];
  return Promise.all(
    requests.map(([ids, p]) => {
      const deltas: unknown[] = [];
      return generator
        .generate(ids, p, (d) => deltas.push(...d))
        .then((result) => ({ result, deltas }));
    }),
  );
}

describe('the engine on the ONNX Runtime addon (CPU provider)', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'mq-native-lm-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A tiny random-weight GPT-2 in `root/name` (vocab 512). */
  const tiny = (
    name: string,
    shape: Partial<Parameters<typeof makeCausalLm>[0]>,
  ): MadeModel =>
    makeCausalLm({
      out: join(root, name),
      layers: 2,
      hidden: 32,
      heads: 2,
      vocab: 512,
      context: 64,
      ...shape,
    });

  const load = (made: MadeModel, runtime: OrtRuntime) =>
    TextGenerator.load(made.dir, {
      intraOpThreads: 1,
      runtime,
      scheduler: { maxPrefillTokens: 24, freePaddingTokens: 4 },
    });

  for (const dtype of ['fp32', 'fp16'] as const) {
    it(`gives the tokens, text and logprobs onnxruntime-node gives, with continuous batching (${dtype})`, async () => {
      const made = tiny(dtype, {
        hidden: 64,
        heads: 4,
        context: 96,
        dtype,
        seed: 5,
      });
      const node = await load(made, 'onnxruntime-node');
      const native = await load(made, 'addon');
      try {
        expect(node.runtime).toBe('onnxruntime-node');
        expect(native.runtime).toBe('addon');
        const live = addon.liveDeviceTensors();
        const [expected, actual] = [
          await workload(node),
          await workload(native),
        ];
        expect(actual).toEqual(expected);
        // The load really batched: rows joined, left and were regathered on the device.
        expect(native.scheduler.stats.decodeRows).toBeGreaterThan(
          native.scheduler.stats.decodeSteps,
        );
        expect(native.scheduler.stats.prefillChunks).toBeGreaterThan(
          native.scheduler.stats.prefills,
        );
        // Every cache was released when no group held it: nothing waits for the GC.
        expect(addon.liveDeviceTensors()).toBe(live);
      } finally {
        await node.dispose();
        await native.dispose();
      }
    });
  }

  it('frees the device memory of thousands of sequences, cancelled ones too, as they end', async () => {
    const made = tiny('many', { seed: 9 });
    const native = await load(made, 'addon');
    try {
      const live = addon.liveDeviceTensors();
      const prompt = native.encode({ kind: 'text', text: 'credits roll' });
      const rounds = async (count: number) => {
        for (let round = 0; round < count; round++) {
          const controller = new AbortController();
          const runs = Array.from({ length: 16 }, (_, i) =>
            native.generate(
              prompt.slice(0, 1 + (i % prompt.length)),
              params({ maxTokens: 1 + (i % 5), n: 1 + (i % 2) }),
              () => {
                if (i === 3) controller.abort();
              },
              i === 3 ? controller.signal : undefined,
            ),
          );
          const settled = await Promise.allSettled(runs);
          const failed = settled.filter((s) => s.status === 'rejected');
          expect(failed).toHaveLength(1);
          expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(
            InferenceError,
          );
          expect(addon.liveDeviceTensors()).toBe(live);
        }
      };
      await rounds(20);
      const before = process.memoryUsage().rss;
      await rounds(100);
      const grown = process.memoryUsage().rss - before;
      expect(native.scheduler.stats.tokens).toBeGreaterThan(2000);
      expect(grown).toBeLessThan(64 * 2 ** 20);
    } finally {
      await native.dispose();
    }
  });

  it('runs on onnxruntime-node, and says why, when the addon was asked for but is not built', async () => {
    const made = tiny('fallback', { layers: 1, context: 32, seed: 2 });
    const saved = process.env.MARQUEE_ORT_ADDON;
    process.env.MARQUEE_ORT_ADDON = join(root, 'missing', 'marquee_ort.node');
    const reasons: string[] = [];
    try {
      const generator = await TextGenerator.load(made.dir, {
        runtime: 'addon',
        onRuntimeFallback: (reason) => reasons.push(reason),
      });
      expect(generator.runtime).toBe('onnxruntime-node');
      const result: GenerationResult = await generator.generate(
        generator.encode({ kind: 'text', text: 'hello' }),
        params({ maxTokens: 3 }),
        () => undefined,
      );
      expect(result.completionTokens).toBe(3);
      await generator.dispose();
    } finally {
      if (saved === undefined) delete process.env.MARQUEE_ORT_ADDON;
      else process.env.MARQUEE_ORT_ADDON = saved;
    }
    expect(reasons).toEqual([
      expect.stringContaining('the ONNX Runtime addon is not built at'),
    ]);
    expect(reasons[0]).toContain('running on onnxruntime-node instead');
  });
});
