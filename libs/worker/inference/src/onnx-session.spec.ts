import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCausalLm } from '@marquee/shared/model-maker';
import { InferenceError } from './inference-error';
import { createSession } from './onnx-session';
import { TextGenerator } from './text-generator';

describe('execution provider', () => {
  let root: string;
  let dir: string;
  /** Whether this machine can start CUDA at all (the CI and dev machines cannot). */
  let cudaStarts: boolean;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-ep-'));
    dir = makeCausalLm({
      out: join(root, 'm'),
      name: 'ep-test',
      layers: 1,
      hidden: 32,
      heads: 2,
      vocab: 300,
      context: 32,
      seed: 3,
    }).dir;
    cudaStarts = await createSession(join(dir, 'model.onnx'), {
      executionProvider: 'cuda',
    }).then(
      async ({ session }) => {
        await session.release();
        return true;
      },
      () => false,
    );
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses to load when the configured provider cannot start and no fallback is configured', async () => {
    if (cudaStarts) return; // a GPU machine: nothing to refuse
    const error = (await TextGenerator.load(dir, {
      executionProvider: 'cuda',
    }).catch((e: unknown) => e)) as InferenceError;
    expect(error).toBeInstanceOf(InferenceError);
    expect(error.code).toBe('model_error');
    expect(error.message).toMatch(/on the cuda execution provider/);
  });

  it('reports a broken model file as such, without a false fallback warning', async () => {
    const broken = join(root, 'broken.onnx');
    writeFileSync(broken, 'not an onnx file');
    await expect(createSession(broken, {})).rejects.toMatchObject({
      code: 'model_error',
      message: expect.stringMatching(/^cannot load .*broken\.onnx: /),
    });
    const warnings: string[] = [];
    await expect(
      createSession(broken, {
        executionProvider: 'cuda',
        cpuFallback: true,
        onFallback: (reason) => warnings.push(reason),
      }),
    ).rejects.toMatchObject({
      code: 'model_error',
      message: expect.stringMatching(/on cuda .* or on the CPU/),
    });
    expect(warnings).toEqual([]);
  });

  it('runs on the CPU, and says why, only when the fallback is configured', async () => {
    const warnings: string[] = [];
    const generator = await TextGenerator.load(dir, {
      executionProvider: 'cuda',
      cpuFallback: true,
      onFallback: (reason) => warnings.push(reason),
    });
    try {
      expect(generator.executionProvider).toBe(cudaStarts ? 'cuda' : 'cpu');
      expect(warnings).toHaveLength(cudaStarts ? 0 : 1);
      if (!cudaStarts)
        expect(warnings[0]).toMatch(/cuda .*running .* on the CPU/);
      const result = await generator.generate(
        [5, 6, 7],
        { maxTokens: 3, n: 1, temperature: 0, topP: 1, stop: [] },
        () => undefined,
      );
      expect(result.completionTokens).toBeGreaterThan(0);
    } finally {
      await generator.dispose();
    }
  });
});
