import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidModelManifestError,
  MANIFEST_FILE,
  readModelManifest,
} from './index';

describe('readModelManifest', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'marquee-manifest-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a valid marquee.json', async () => {
    const manifest = {
      name: 'tiny',
      task: 'text-generation',
      dtype: 'fp16',
      contextLength: 256,
      eosTokenId: 511,
      bosTokenId: 511,
      architecture: 'gpt2',
    };
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
    await expect(readModelManifest(dir)).resolves.toEqual(manifest);
  });

  it('rejects a manifest with a bad field, naming the file and the field', async () => {
    const file = join(dir, MANIFEST_FILE);
    await writeFile(
      file,
      JSON.stringify({
        name: 'x',
        task: 'chat',
        dtype: 'fp32',
        contextLength: 8,
        eosTokenId: 1,
        architecture: 'gpt2',
      }),
    );
    const error = await readModelManifest(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidModelManifestError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain('task');
  });

  it('reads an echo model manifest, which names its engine', async () => {
    const manifest = {
      name: 'echo',
      task: 'text-generation',
      dtype: 'fp32',
      contextLength: 4096,
      eosTokenId: 511,
      architecture: 'echo',
      engine: 'echo',
    };
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
    await expect(readModelManifest(dir)).resolves.toEqual(manifest);
  });

  it('rejects an unknown engine and an echo engine for embeddings, naming the field', async () => {
    const base = {
      name: 'x',
      dtype: 'fp32',
      contextLength: 8,
      eosTokenId: 1,
      architecture: 'echo',
    };
    for (const manifest of [
      { ...base, task: 'text-generation', engine: 'tensorrt' },
      { ...base, task: 'embedding', engine: 'echo' },
    ]) {
      await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
      const error = await readModelManifest(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidModelManifestError);
      expect((error as Error).message).toContain('engine');
    }
  });

  it('rejects a manifest that is not JSON, naming the file', async () => {
    const file = join(dir, MANIFEST_FILE);
    await writeFile(file, '{ nope');
    await expect(readModelManifest(dir)).rejects.toThrow(file);
  });

  it('rejects a folder without marquee.json, naming the file', async () => {
    await expect(readModelManifest(dir)).rejects.toThrow(
      join(dir, MANIFEST_FILE),
    );
  });
});
