/**
 * `npm start`: everything a new user needs, on a machine with only Node.js if need be. Uses
 * PostgreSQL and Redis where they answer (or where DATABASE_URL and REDIS_URL say), and runs its
 * own where they do not (see local-services.ts). Creates the database, migrates, makes the demo
 * model, seeds the demo tenant and key, builds and starts the gateway and a worker, and prints a
 * working example. Runs until Ctrl-C, restarting a process that dies; Ctrl-C stops what it
 * started, the apps first and the services they use last.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CHAT_TEMPLATE,
  makeCausalLm,
  makeEncoder,
} from '@marquee/shared/model-maker';
import { MANIFEST_FILE, MODEL_FILES } from '@marquee/shared/model-format';
import {
  buildApps,
  ensureDatabase,
  ensureRedis,
  migrate,
  redact,
  ROOT,
  SetupError,
  startApp,
  Supervisor,
  waitForOk,
} from '@marquee/shared/util-setup';
import { seedDemo } from '@marquee/gateway/feature-admin';
import {
  type EmbedMode,
  type ProvidedService,
  providePostgres,
  provideRedis,
} from './local-services';
import { tail } from './service-process';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/marquee';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const PORT = process.env.PORT ?? '8080';
const GRPC_PORT = process.env.GRPC_PORT ?? '50051';
/**
 * The demo model exists and has the current chat template (an older folder lacks the tool turns,
 * so it is made again; its weights come from the same seed).
 */
async function demoModelIsCurrent(): Promise<boolean> {
  if (!existsSync(join(DEMO_MODEL_DIR, MANIFEST_FILE))) return false;
  try {
    const config = JSON.parse(
      await readFile(join(DEMO_MODEL_DIR, MODEL_FILES.tokenizerConfig), 'utf8'),
    ) as { chat_template?: unknown };
    return config.chat_template === CHAT_TEMPLATE;
  } catch {
    return false;
  }
}

/** Admin token, demo key, and the data of the PostgreSQL and Redis started here. */
const STATE_DIR = process.env.MARQUEE_STATE_DIR ?? join(ROOT, '.marquee');
const MODELS_DIR = process.env.MODELS_DIR ?? join(ROOT, 'models');
const DEMO_MODEL_DIR = join(MODELS_DIR, 'marquee-tiny');
const EMBED_MODEL_DIR = join(MODELS_DIR, 'marquee-embed-tiny');

const step = (message: string) => console.log(`marquee: ${message}`);

async function adminToken(): Promise<string> {
  if (process.env.MARQUEE_ADMIN_TOKEN) return process.env.MARQUEE_ADMIN_TOKEN;
  const file = join(STATE_DIR, 'admin-token');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const token = `mqa_${randomBytes(24).toString('base64url')}`;
  await mkdir(STATE_DIR, { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

// Ctrl-C, SIGTERM, a process given up on, or a failed step: the apps stop first, then the
// services they were using.
let stopping = false;
const apps = new Supervisor({ onGiveUp: (name) => giveUp(name) });
const services = new Supervisor({ onGiveUp: (name) => giveUp(name) });
const serviceLogs = new Map<string, string>();

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await apps.stop();
  await services.stop();
  process.exit(code);
}

function giveUp(name: string): void {
  const logFile = serviceLogs.get(name);
  console.error(
    logFile
      ? `marquee: ${name} keeps failing; the end of ${logFile}:\n${tail(logFile)}\nstopping`
      : `marquee: ${name} keeps failing (see its log above); stopping`,
  );
  void shutdown(1);
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  const serviceOptions = {
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    defaultDatabaseUrl: DEFAULT_DATABASE_URL,
    defaultRedisUrl: DEFAULT_REDIS_URL,
    mode: embedMode(process.env.MARQUEE_EMBEDDED),
    stateDir: STATE_DIR,
    services,
    log: step,
  };
  const redis = await provideRedis(serviceOptions);
  if (redis.logFile) serviceLogs.set('redis', redis.logFile);
  const postgres = await providePostgres(serviceOptions);
  if (postgres.logFile) serviceLogs.set('postgres', postgres.logFile);
  const DATABASE_URL = postgres.url;
  const REDIS_URL = redis.url;

  await ensureRedis(REDIS_URL);
  const { created } = await ensureDatabase(DATABASE_URL);
  if (created) step('created the database');
  migrate(DATABASE_URL);
  step('database migrated');
  if (!(await demoModelIsCurrent())) {
    await makeCausalLm({
      out: DEMO_MODEL_DIR,
      name: 'marquee-tiny',
      layers: 2,
      hidden: 64,
      heads: 4,
      vocab: 512,
      // Room for a tools preamble and a JSON answer.
      context: 2048,
      dtype: 'fp32',
      seed: 42,
    });
    step(`generated the demo model in ${DEMO_MODEL_DIR}`);
  }
  if (!existsSync(join(EMBED_MODEL_DIR, MANIFEST_FILE))) {
    makeEncoder({
      out: EMBED_MODEL_DIR,
      name: 'marquee-embed-tiny',
      layers: 2,
      hidden: 64,
      heads: 4,
      vocab: 512,
      context: 512,
      seed: 42,
    });
    step(`generated the demo embedding model in ${EMBED_MODEL_DIR}`);
  }
  const seed = await seedDemo({
    databaseUrl: DATABASE_URL,
    modelDir: DEMO_MODEL_DIR,
    keyFile: join(STATE_DIR, 'demo-key.json'),
  });
  // Same tenant and key; registers the embedding model for /v1/embeddings.
  await seedDemo({
    databaseUrl: DATABASE_URL,
    modelDir: EMBED_MODEL_DIR,
    keyFile: join(STATE_DIR, 'demo-key.json'),
  });
  const token = await adminToken();
  step(
    'building gateway, worker and dashboard (cached after the first run)...',
  );
  buildApps();

  const common = {
    DATABASE_URL,
    REDIS_URL,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  // A process that dies is started again (and said so), each on its own: a crashed worker does
  // not stop the gateway. One that keeps dying right after starting is given up on, and then
  // everything stops.
  apps.add('gateway', () =>
    startApp('gateway', {
      ...common,
      PORT,
      GRPC_PORT,
      MARQUEE_ADMIN_TOKEN: token,
      // The demo lets any page call /v1 from a browser (production allows none unless told).
      MARQUEE_CORS_ORIGINS: process.env.MARQUEE_CORS_ORIGINS ?? '*',
    }),
  );
  apps.add('worker', () => startApp('worker', { ...common, MODELS_DIR }));

  const base = `http://localhost:${PORT}`;
  await waitForOk(`${base}/health/ready`, 120_000, () => !stopping);
  console.log(banner(base, seed.apiKey, token, seed.model, postgres, redis));
}

function embedMode(value: string | undefined): EmbedMode {
  switch (value) {
    case undefined:
    case '':
      return 'auto';
    case '1':
      return 'always';
    case '0':
      return 'never';
    default:
      throw new SetupError(
        `MARQUEE_EMBEDDED must be 1 (always run PostgreSQL and Redis of its own where no URL is set) or 0 (never), not ${JSON.stringify(value)}`,
      );
  }
}

function banner(
  base: string,
  key: string,
  token: string,
  model: string,
  postgres: ProvidedService,
  redis: ProvidedService,
): string {
  return `
Marquee is running.
  Base URL     ${base}/v1
  Demo key     ${key}
  Admin token  ${token}
  Dashboard    ${base}/dashboard  (sign in with the admin token)
  Model        ${model}
  PostgreSQL   ${redact(postgres.url)}  (${postgres.origin})
  Redis        ${redact(redis.url)}  (${redis.origin})

Try it:
  curl ${base}/v1/completions -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
    -d '{"model":"${model}","prompt":"A heist film set in","max_tokens":20,"seed":7}'

  curl ${base}/v1/chat/completions -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
    -d '{"model":"${model}","messages":[{"role":"user","content":"A film, as JSON"}],"seed":7,"response_format":{"type":"json_schema","json_schema":{"name":"film","schema":{"type":"object","properties":{"title":{"type":"string","maxLength":20},"year":{"type":"integer","minimum":1900,"maximum":2030}},"required":["title","year"]}}}}'

  curl ${base}/v1/embeddings -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
    -d '{"model":"marquee-embed-tiny","input":["A heist film","A monster movie"]}'

Or with the OpenAI SDK (Node):
  import OpenAI from 'openai';
  const client = new OpenAI({ baseURL: '${base}/v1', apiKey: '${key}' });
  const r = await client.chat.completions.create({ model: '${model}', messages: [{ role: 'user', content: 'Pitch a thriller' }], max_tokens: 20 });
  console.log(r.choices[0].message.content);

Ctrl-C stops it.
`;
}

main().catch((error: unknown) => {
  if (error instanceof SetupError) console.error(`marquee: ${error.message}`);
  else console.error(`marquee: start failed: ${(error as Error).message}`);
  // Whatever was started before the failure (an embedded PostgreSQL) stops with it.
  void shutdown(1);
});
