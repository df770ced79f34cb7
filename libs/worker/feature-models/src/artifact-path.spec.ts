import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactPathRefused, resolveArtifactPath } from './artifact-path';

describe('resolveArtifactPath', () => {
  let base: string;
  let models: string;
  let elsewhere: string;

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'artifact-path-'));
    models = join(base, 'models');
    elsewhere = join(base, 'elsewhere');
    mkdirSync(join(models, 'tiny'), { recursive: true });
    mkdirSync(join(elsewhere, 'secret'), { recursive: true });
    symlinkSync(join(elsewhere, 'secret'), join(models, 'link-out'));
  });

  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('accepts a folder inside a root, by its real path', async () => {
    await expect(
      resolveArtifactPath(join(models, 'tiny'), [models]),
    ).resolves.toBe(join(models, 'tiny'));
  });

  it('accepts a folder inside a second root', async () => {
    await expect(
      resolveArtifactPath(join(elsewhere, 'secret'), [models, elsewhere]),
    ).resolves.toBe(join(elsewhere, 'secret'));
  });

  it.each([
    ['a sibling folder', () => join(elsewhere, 'secret')],
    [
      'a path climbing out with ..',
      () => join(models, '..', 'elsewhere', 'secret'),
    ],
    ['a symbolic link leading out', () => join(models, 'link-out')],
    ['the root itself', () => models],
  ])('refuses %s', async (_, path) => {
    await expect(resolveArtifactPath(path(), [models])).rejects.toBeInstanceOf(
      ArtifactPathRefused,
    );
  });

  it('refuses a folder that does not exist, naming it', async () => {
    await expect(
      resolveArtifactPath(join(models, 'missing'), [models]),
    ).rejects.toThrow(/missing cannot be read/);
  });
});
