/**
 * Builds the gateway and worker once for the whole fault run (each file then starts its own
 * processes from dist/). Loaded by Jest without the workspace's path aliases, so it runs Nx
 * directly rather than through @marquee/shared/util-setup.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');

/** Set once the build is done: `FaultStack` then skips its own build. */
export const BUILT_FLAG = 'MARQUEE_FAULTS_BUILT';

export default function globalSetup(): void {
  // Apps built elsewhere (see app-process.ts): nothing to build here.
  if (process.env.MARQUEE_FAULTS_DIST) return;
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'),
      'run-many',
      '-t',
      'build',
      '-p',
      'gateway',
      'worker',
      '--outputStyle=static',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      encoding: 'utf8',
    },
  );
  if (result.status !== 0)
    throw new Error(
      `building gateway and worker failed:\n${result.stdout}${result.stderr}`,
    );
  process.env[BUILT_FLAG] = '1';
}
