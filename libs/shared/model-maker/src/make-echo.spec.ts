import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_FILES, readModelManifest } from '@marquee/shared/model-format';
import { makeEcho } from './make-echo';

describe('makeEcho', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mq-make-echo-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('writes a tokenizer and a manifest naming the echo engine, and no ONNX graph', async () => {
    const out = join(root, 'echo');
    // A folder that held an ONNX model before.
    makeEcho({ out });
    writeFileSync(join(out, MODEL_FILES.onnx), 'stale');
    writeFileSync(join(out, MODEL_FILES.onnxData), 'stale');

    const made = makeEcho({ out, name: 'bench-echo', vocab: 300, context: 64 });

    expect(await readModelManifest(out)).toEqual({
      name: 'bench-echo',
      task: 'text-generation',
      dtype: 'fp32',
      contextLength: 64,
      eosTokenId: 299,
      architecture: 'echo',
      engine: 'echo',
    });
    expect(made.files.sort()).toEqual(
      [
        MODEL_FILES.config,
        MODEL_FILES.generationConfig,
        MODEL_FILES.manifest,
        MODEL_FILES.tokenizer,
        MODEL_FILES.tokenizerConfig,
      ].sort(),
    );
    expect(existsSync(join(out, MODEL_FILES.onnx))).toBe(false);
    expect(existsSync(join(out, MODEL_FILES.onnxData))).toBe(false);
  });

  it('refuses a vocabulary too small for the byte tokens and special tokens', () => {
    expect(() => makeEcho({ out: join(root, 'x'), vocab: 100 })).toThrow(
      /vocab must be at least 259/,
    );
  });
});
