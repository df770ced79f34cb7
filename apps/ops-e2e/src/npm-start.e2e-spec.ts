import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { freePort, ROOT } from '@marquee/shared/util-setup';

/** What `npm start` printed once it was serving. */
interface Banner {
  baseUrl: string;
  key: string;
  model: string;
  postgres: string;
  redis: string;
}

interface Started {
  child: ChildProcess;
  output: () => string;
  banner: Promise<Banner>;
  /** How npm ended: code 0, or the SIGINT it got from Ctrl-C, as in a terminal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `npm start` as a user runs it in a terminal: its own process group (Ctrl-C signals the whole
 * group), DATABASE_URL and REDIS_URL unset, MARQUEE_EMBEDDED=1 standing in for a machine where
 * nothing listens on 5432 and 6379 (CI's machines run both).
 */
function npmStart(env: NodeJS.ProcessEnv): Started {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.DATABASE_URL;
  delete childEnv.REDIS_URL;
  delete childEnv.NODE_ENV;
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: childEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const banner = new Promise<Banner>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      text += chunk.toString();
      const start = text.indexOf('Marquee is running.');
      if (start < 0 || !text.includes('Ctrl-C stops it.', start)) return;
      const field = (name: string) =>
        new RegExp(`^  ${name} +(.+)$`, 'm').exec(text.slice(start))?.[1] ?? '';
      resolve({
        baseUrl: field('Base URL'),
        key: field('Demo key'),
        model: field('Model'),
        postgres: field('PostgreSQL'),
        redis: field('Redis'),
      });
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    void exited.then(({ code, signal }) =>
      reject(
        new Error(
          `npm start exited (${signal ?? code}) before serving:\n${text.slice(-3000)}`,
        ),
      ),
    );
  });
  return { child, output: () => text, banner, exited };
}

/** Every process below `root` (the gateway, the worker, PostgreSQL and its backends, Redis...). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = parentOf(Number(entry));
    if (ppid === undefined) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift() as number;
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** `/proc/<pid>/stat`: "pid (comm) state ppid ..."; comm may hold spaces and parentheses. */
function statOf(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  const fields = statOf(pid);
  return fields ? Number(fields[1]) : undefined;
}

/** Running, not gone and not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  const fields = statOf(pid);
  return fields !== undefined && fields[0] !== 'Z';
}

/** SIGKILL, where the process (or group, negative) may have ended a moment ago. */
function killIfRunning(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls until none of `pids` runs (they are not our children: no exit event to await). npm
 * exits on Ctrl-C at once while start.ts drains the gateway and worker and then stops
 * PostgreSQL: on a 2-core CI machine busy with other suites that took over 15 s once.
 */
async function allGone(pids: number[], timeoutMs = 45_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(running);
  while (left.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = left.filter(running);
  }
  return left;
}

async function complete(banner: Banner) {
  const client = new OpenAI({
    baseURL: banner.baseUrl,
    apiKey: banner.key,
    maxRetries: 0,
  });
  return client.chat.completions.create({
    model: banner.model,
    messages: [{ role: 'user', content: 'Pitch a heist movie' }],
    max_tokens: 8,
    seed: 7,
  });
}

describe('npm start with nothing but Node.js (MARQUEE_EMBEDDED=1)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'marquee-start-'));
  // Run as root, PostgreSQL runs as the postgres user, which must reach its data folder.
  chmodSync(stateDir, 0o755);
  let env: NodeJS.ProcessEnv;
  let started: Started | undefined;
  let firstKey = '';
  const seen = new Set<number>();

  beforeAll(async () => {
    env = {
      MARQUEE_EMBEDDED: '1',
      MARQUEE_STATE_DIR: stateDir,
      MODELS_DIR: join(stateDir, 'models'),
      PORT: String(await freePort()),
      GRPC_PORT: String(await freePort()),
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    };
  });

  afterAll(() => {
    // Only after a failure is anything left: stop what this file started, by pid.
    try {
      const child = started?.child;
      if (child?.pid && child.exitCode === null && child.signalCode === null) {
        killIfRunning(-child.pid);
      }
      for (const pid of seen) killIfRunning(pid);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  /** Serves, answers one completion, then Ctrl-C; returns the banner and the output. */
  async function runOnce() {
    const systemPostgres = await answers(5432);
    const systemRedis = await answers(6379);
    started = npmStart(env);
    const banner = await started.banner;
    const response = await complete(banner);
    const pids = descendants(started.child.pid as number);
    pids.forEach((pid) => seen.add(pid));

    process.kill(-(started.child.pid as number), 'SIGINT'); // Ctrl-C
    const ended = await started.exited;
    const left = await allGone(pids);
    return {
      banner,
      response,
      ended,
      pids,
      left,
      output: started.output(),
      otherServicesUntouched:
        (await answers(5432)) === systemPostgres &&
        (await answers(6379)) === systemRedis,
    };
  }

  it('serves a completion from an embedded PostgreSQL and a private Redis, and Ctrl-C stops all it started', async () => {
    const run = await runOnce();

    expect(run.banner.postgres).toMatch(
      /^postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/marquee +\(embedded, data in /,
    );
    expect(run.banner.redis).toMatch(
      /^redis:\/\/127\.0\.0\.1:\d+ +\(private redis-server, data in /,
    );
    expect(run.output).toContain('created an embedded PostgreSQL cluster');
    expect(run.response.choices[0].finish_reason).toBe('length');
    expect(run.response.usage?.completion_tokens).toBe(8);
    // The gateway, the worker, PostgreSQL with its backends, redis-server: more than a handful.
    expect(run.pids.length).toBeGreaterThan(8);
    expect([0, 'SIGINT']).toContain(run.ended.signal ?? run.ended.code);
    expect(run.output).not.toMatch(/marquee: .*(failed|keeps failing)/);
    expect(run.left).toEqual([]);
    expect(run.otherServicesUntouched).toBe(true);
    expect(existsSync(join(stateDir, 'postgres', 'data', 'PG_VERSION'))).toBe(
      true,
    );
    firstKey = run.banner.key;
  }, 240_000);

  it('keeps its data across a restart: the same demo key works again', async () => {
    const run = await runOnce();

    expect(run.output).not.toContain('created an embedded PostgreSQL cluster');
    expect(run.output).not.toContain('created the database');
    expect(run.banner.key).toBe(firstKey);
    expect(run.response.usage?.completion_tokens).toBe(8);
    expect([0, 'SIGINT']).toContain(run.ended.signal ?? run.ended.code);
    expect(run.left).toEqual([]);
  }, 120_000);
});
