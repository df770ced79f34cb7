import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';

/** A model folder the worker will not load: outside its allowed roots, or unreadable. */
export class ArtifactPathRefused extends Error {
  readonly code = 'ArtifactPathRefused';
}

/**
 * The real path of a model folder named by the registry, if it lies inside one of `roots`
 * (symbolic links resolved on both sides, so a link cannot lead outside). Relative paths
 * resolve against the working directory.
 *
 * @throws ArtifactPathRefused when the folder is outside every root or cannot be read.
 */
export async function resolveArtifactPath(
  artifactPath: string,
  roots: readonly string[],
): Promise<string> {
  const real = await realpath(resolve(artifactPath)).catch(() => {
    throw new ArtifactPathRefused(`${artifactPath} cannot be read`);
  });
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => null);
    if (!realRoot) continue;
    const inside = relative(realRoot, real);
    if (inside && !inside.startsWith('..') && !isAbsolute(inside)) return real;
  }
  throw new ArtifactPathRefused(
    `${artifactPath} is outside MODELS_DIR and MODEL_ROOTS (${roots.join(', ')})`,
  );
}
