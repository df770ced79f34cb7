import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDemo } from '@marquee/gateway/feature-admin';
import { makeCausalLm } from '@marquee/shared/model-maker';
import {
  buildApps,
  createTestDatabase,
  freePort,
  ROOT,
  stopAll,
  type TestDatabase,
} from '@marquee/shared/util-setup';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export { freePort };

/** A started app, its log file, and how it ended. */
export interface RunningApp {
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

/** Prepared data: database, model, key. Apps are started per test. */
export interface OpsFixture {
  db: TestDatabase;
  workDir: string;
  modelsDir: string;
  model: string;
  apiKey: string;
  adminToken: string;
}

export async function prepareFixture(label: string): Promise<OpsFixture> {
  const db = await createTestDatabase(label);
  const workDir = mkdtempSync(join(tmpdir(), `marquee-${label}-`));
  const modelsDir = join(workDir, 'models');
  const model = `${label}-${process.pid}-${Date.now().toString(36)}`;
  const modelDir = join(modelsDir, model);
  // Big enough that a 240-token stream lasts a few seconds on two cores, even batched.
  makeCausalLm({
    out: modelDir,
    name: model,
    layers: 6,
    hidden: 384,
    heads: 4,
    vocab: 512,
    context: 256,
    dtype: 'fp32',
    seed: 7,
  });
  const seed = await seedDemo({
    databaseUrl: db.url,
    modelDir,
    keyFile: join(workDir, 'key.json'),
    tenantName: label,
  });
  buildApps();
  return {
    db,
    workDir,
    modelsDir,
    model: seed.model,
    apiKey: seed.apiKey,
    adminToken: `mqa_${label}_0123456789abcdef`,
  };
}

export async function disposeFixture(fixture: OpsFixture | undefined) {
  if (!fixture) return;
  await fixture.db.drop();
  rmSync(fixture.workDir, { recursive: true, force: true });
}

export function startApp(
  name: 'gateway' | 'worker',
  env: NodeJS.ProcessEnv,
  logDir: string,
): RunningApp {
  const log = join(logDir, `${name}-${Date.now()}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'apps', name, 'main.js')],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] },
  );
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, log, exited };
}

export function readLog(app: RunningApp): string {
  try {
    return readFileSync(app.log, 'utf8');
  } catch {
    return '';
  }
}

/** Polls until `check` is true (a condition a test waits on, not a fixed sleep). */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export { stopAll };

/** One streamed completion, read to its end. */
export interface StreamResult {
  status: number;
  chunks: number;
  done: boolean;
  finishReason: string | null;
  error: string | null;
  /** Date.now() when the stream ended. */
  endedAt: number;
}

/**
 * Starts a streamed completion; `firstChunk` resolves when the first token arrives, `result`
 * when the stream ends (or fails: the error is reported, never thrown).
 */
export function streamCompletion(
  origin: string,
  apiKey: string,
  model: string,
  maxTokens: number,
): { firstChunk: Promise<void>; result: Promise<StreamResult> } {
  let markFirst: () => void = () => undefined;
  const firstChunk = new Promise<void>((resolve) => (markFirst = resolve));
  const result = (async (): Promise<StreamResult> => {
    const outcome: StreamResult = {
      status: 0,
      chunks: 0,
      done: false,
      finishReason: null,
      error: null,
      endedAt: 0,
    };
    try {
      const response = await fetch(`${origin}/v1/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          model,
          prompt: 'A heist film set in',
          max_tokens: maxTokens,
          temperature: 0,
          stream: true,
        }),
      });
      outcome.status = response.status;
      if (!response.body) throw new Error('no body');
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const part of response.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(part, { stream: true });
        let index: number;
        while ((index = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, index).replace(/^data: /, '');
          buffer = buffer.slice(index + 2);
          if (event === '[DONE]') {
            outcome.done = true;
            continue;
          }
          const data = JSON.parse(event) as {
            error?: { message: string };
            choices?: { finish_reason: string | null }[];
          };
          if (data.error) outcome.error = data.error.message;
          outcome.chunks += 1;
          markFirst();
          const reason = data.choices?.[0]?.finish_reason;
          if (reason) outcome.finishReason = reason;
        }
      }
    } catch (error) {
      outcome.error = (error as Error).message;
    }
    markFirst();
    outcome.endedAt = Date.now();
    return outcome;
  })();
  return { firstChunk, result };
}
