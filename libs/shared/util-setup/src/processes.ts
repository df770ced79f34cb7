import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(__dirname, '..', '..', '..', '..');

/** Runs a command to completion in the repository root; throws with its output on failure. */
export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): void {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed:\n${result.stdout ?? ''}${result.stderr ?? ''}`,
    );
  }
}

/** Applies pending migrations with Prisma's own CLI (offline; see tools/prisma-engine). */
export function migrate(databaseUrl: string): void {
  run(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'prisma', 'build', 'index.js'),
      'migrate',
      'deploy',
    ],
    {
      DATABASE_URL: databaseUrl,
    },
  );
}

/**
 * Builds the gateway and worker bundles and the dashboard the gateway serves (Nx caches them when
 * nothing changed). One build for every caller: Jest's global setup runs it before any test, so
 * tests that start Marquee later (npm start, the browser suite) find it done instead of
 * rebuilding the same output folders at the same time.
 */
export function buildApps(): void {
  run(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'),
      'run-many',
      '-t',
      'build',
      '-p',
      'gateway',
      'worker',
      'dashboard',
      '--outputStyle=static',
    ],
    {
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
    },
  );
}

/** Starts a built app (`dist/apps/<name>/main.js`) with extra environment. */
export function startApp(
  name: 'gateway' | 'worker',
  env: NodeJS.ProcessEnv,
  output: 'inherit' | 'pipe' | 'ignore' = 'pipe',
): ChildProcess {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'apps', name, 'main.js')],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', output, output],
    },
  );
  if (output === 'pipe') {
    const prefix = (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((line) => `[${name}] ${line}\n`)
        .join('');
    child.stdout?.on('data', (chunk: Buffer) =>
      process.stdout.write(prefix(chunk)),
    );
    child.stderr?.on('data', (chunk: Buffer) =>
      process.stderr.write(prefix(chunk)),
    );
  }
  return child;
}

/** Polls a URL until it answers 200, or fails after `timeoutMs`. */
export async function waitForOk(
  url: string,
  timeoutMs: number,
  isAlive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`a process exited before ${url} was ready`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (last: ${last})`);
}

/** Stops children with SIGTERM, then SIGKILL after `graceMs`. */
export async function stopAll(
  children: ChildProcess[],
  graceMs = 5000,
): Promise<void> {
  await Promise.all(children.map((child) => stopProcess(child, graceMs)));
}

/**
 * Stops one child with `signal` (default SIGTERM; PostgreSQL wants SIGINT, its fast shutdown),
 * then SIGKILL after `graceMs`, and resolves when it has exited.
 */
export function stopProcess(
  child: ChildProcess,
  graceMs = 5000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}
