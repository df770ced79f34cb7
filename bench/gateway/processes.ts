/**
 * The bench's child processes: the mock OpenAI server and Portkey's Node server. Each writes its
 * output to a log file in the bench's work folder, not to the terminal, so printing never costs a
 * target time during a measurement.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ROOT, waitForOk } from '@marquee/shared/util-setup';

/** A started server: its origin (`http://127.0.0.1:port`) and its process. */
export interface RunningServer {
  origin: string;
  child: ChildProcess;
  log: string;
}

function isRunning(child: ChildProcess): () => boolean {
  return () => child.exitCode === null && child.signalCode === null;
}

/** Forks `mock-openai.ts` (under tsx, as this process runs) and waits for its port. */
export async function startMockOpenAi(logDir: string): Promise<RunningServer> {
  const log = join(logDir, 'mock-openai.log');
  const fd = openSync(log, 'w');
  const child = fork(join(__dirname, 'mock-openai.ts'), ['0'], {
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) =>
      resolve((message as { port: number }).port),
    );
    child.once('exit', (code) =>
      reject(new Error(`the mock OpenAI server exited (${code}); see ${log}`)),
    );
  });
  return { origin: `http://127.0.0.1:${port}`, child, log };
}

/** Where Portkey's Node server is in its npm package (`bin` of `@portkey-ai/gateway`). */
export const PORTKEY_SERVER = join(
  ROOT,
  'node_modules',
  '@portkey-ai',
  'gateway',
  'build',
  'start-server.js',
);

/**
 * Starts Portkey's gateway (`start-server.js --port=N --headless`, no UI). Requests name the
 * upstream per call with `x-portkey-provider: openai` and `x-portkey-custom-host`; 127.0.0.1 is
 * among Portkey's default trusted custom hosts.
 */
export async function startPortkey(logDir: string): Promise<RunningServer> {
  const port = await freePort();
  const log = join(logDir, 'portkey.log');
  const fd = openSync(log, 'w');
  const child = spawn(
    process.execPath,
    [PORTKEY_SERVER, `--port=${port}`, '--headless'],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', fd, fd],
    },
  );
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${origin}/`, 30_000, isRunning(child));
  } catch (error) {
    throw new Error(
      `Portkey did not start (${(error as Error).message}); see ${log}`,
    );
  }
  return { origin, child, log };
}
