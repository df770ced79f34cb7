/**
 * `npm run bench:gateway`: the request path at the speed of a proxy. Starts, in this process
 * tree, a mock OpenAI server that answers at once, Portkey's gateway (`@portkey-ai/gateway` from
 * npm) proxying to it, and a Marquee of its own (or uses MARQUEE_BASE_URL), then measures them
 * interleaved (each phase visits every target in turn, round after round, so machine noise hits
 * all alike): c=1 latency of a 1-token chat completion, throughput at c=50 (autocannon), and
 * streaming of 16 tokens (time to first token, gap between tokens), plus Marquee's
 * `GET /v1/models`. Marquee's per-stage histograms are scraped around each of its runs. Then,
 * once, 500 concurrent streams against Marquee with the echo model, each checked for lost frames.
 * Writes `bench/results/gateway-<date>.json` and prints a table and the ratios Marquee/Portkey.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, stopAll } from '@marquee/shared/util-setup';
import { startReport } from './bench-report';
import {
  concurrentStreams,
  concurrentStreamsLine,
  type ConcurrentStreamsResult,
} from './gateway/concurrent-streams';
import { fixedConcurrency, streamSequential } from './gateway/load';
import { type MarqueeTarget, startMarquee } from './gateway/marquee-stack';
import {
  type RunningServer,
  startMockOpenAi,
  startPortkey,
} from './gateway/processes';
import {
  addDifference,
  type Buckets,
  scrapeBuckets,
  STAGE_METRIC,
  stageTable,
} from './gateway/stage-histograms';
import {
  ratios,
  stageLines,
  summarizeTarget,
  table,
  type Phase,
  PHASES,
  type TargetRuns,
} from './gateway/summarize';
import {
  allTargets,
  PROMPT,
  STREAM_TOKENS,
  type Target,
} from './gateway/targets';

const PHASE_S = Number(process.env.BENCH_PHASE_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = 50;
/** Issue 10's "500 concurrent streams with no lost frame"; 0 skips the phase. */
const CONCURRENT = Number(process.env.BENCH_CONCURRENT_STREAMS ?? 500);
/** A stream of that phase still open after this long counts as an error. */
const CONCURRENT_DEADLINE_MS = 120_000;

const say = (line: string) => console.log(`bench:gateway: ${line}`);

function version(pkg: string): string {
  return (
    JSON.parse(
      readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'),
    ) as { version: string }
  ).version;
}

function git(): { commit: string; uncommittedFiles: number } {
  try {
    const commit = execSync('git rev-parse --short HEAD', {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return {
      commit,
      uncommittedFiles: dirty.split('\n').filter(Boolean).length,
    };
  } catch {
    return { commit: 'unknown', uncommittedFiles: -1 };
  }
}

let metricsUnreadable = false;

/**
 * Scrapes Marquee's stage histograms around `run`; returns what the run recorded, or null. A
 * metrics endpoint that cannot be read is said once, and the bench goes on without stages.
 */
async function stagesDuring(
  marquee: MarqueeTarget,
  run: () => Promise<void>,
): Promise<Buckets | null> {
  const url = marquee.metricsUrl;
  const scrape = async () => {
    if (!url || metricsUnreadable) return null;
    try {
      return await scrapeBuckets(url);
    } catch (error) {
      metricsUnreadable = true;
      say(
        `cannot read Marquee's metrics at ${url} (${(error as Error).message}); no stage figures`,
      );
      return null;
    }
  };
  const before = await scrape();
  await run();
  const after = await scrape();
  if (!after) return null;
  const recorded: Buckets = new Map();
  addDifference(recorded, after, before);
  return recorded;
}

/** Runs one phase against one target, adding the result to `into`. */
async function measure(
  phase: Phase,
  target: Target,
  into: TargetRuns,
): Promise<void> {
  switch (phase) {
    case 'c1':
      into.c1.push(await fixedConcurrency(target.call, 1, PHASE_S));
      return;
    case 'c50':
      into.c50.push(await fixedConcurrency(target.call, CONNECTIONS, PHASE_S));
      return;
    case 'stream':
      if (target.stream)
        into.stream.push(await streamSequential(target.stream, PHASE_S));
      return;
  }
}

/** The concurrent-streams phase against Marquee + echo, with the stages it recorded. */
async function streamsAtOnce(marquee: MarqueeTarget, model: string) {
  say(`${CONCURRENT} concurrent streams, Marquee echo`);
  let result: ConcurrentStreamsResult | undefined;
  const recorded = await stagesDuring(marquee, async () => {
    result = await concurrentStreams({
      url: `${marquee.origin}/v1/chat/completions`,
      apiKey: marquee.apiKey,
      model,
      prompt: PROMPT,
      count: CONCURRENT,
      maxTokens: STREAM_TOKENS,
      deadlineMs: CONCURRENT_DEADLINE_MS,
    });
  });
  if (!result) throw new Error('the concurrent streams phase did not run');
  return { ...result, stages: recorded ? stageTable(recorded) : null };
}

async function main(): Promise<void> {
  const report = startReport('npm run bench:gateway');
  const started = performance.now();
  // Before the apps are built: the build takes whatever the work tree holds.
  const tree = git();
  const logDir = mkdtempSync(join(tmpdir(), 'marquee-gateway-bench-logs-'));
  let failed = true;
  const servers: RunningServer[] = [];
  let marquee: MarqueeTarget | undefined;
  const stop = async () => {
    await stopAll(servers.map((s) => s.child));
    await marquee?.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const mock = await startMockOpenAi(logDir);
    servers.push(mock);
    const portkey = await startPortkey(logDir);
    servers.push(portkey);
    say(`mock at ${mock.origin}, Portkey at ${portkey.origin}`);
    marquee = await startMarquee(say);
    for (const why of marquee.skipped) say(`skipping Marquee ${why}`);
    const targets = allTargets(mock.origin, portkey.origin, marquee);
    const runs = new Map<string, TargetRuns>(
      targets.map((t) => [t.id, { c1: [], c50: [], stream: [], stages: {} }]),
    );
    say('warming up every target (1 s at c=1, one stream)');
    for (const target of targets) {
      await fixedConcurrency(target.call, 1, 1);
      if (target.stream) await streamSequential(target.stream, 0.3);
    }
    const loadPerRound: number[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      for (const phase of PHASES)
        for (const target of targets) {
          if (phase === 'stream' && !target.stream) continue;
          say(`round ${r}/${ROUNDS} ${phase} ${target.id}`);
          const into = runs.get(target.id) as TargetRuns;
          if (!target.marqueeInference) {
            await measure(phase, target, into);
            continue;
          }
          const recorded = await stagesDuring(marquee, () =>
            measure(phase, target, into),
          );
          if (!recorded) continue;
          const sum = (into.stages[phase] ??= new Map());
          addDifference(sum, recorded, null);
        }
      loadPerRound.push(loadavg()[0]);
    }

    const echo = marquee.models.find((m) => m.kind === 'echo');
    const streams500 =
      CONCURRENT > 0 && echo && targets.some((t) => t.id === 'marquee-echo')
        ? await streamsAtOnce(marquee, echo.name)
        : null;

    const summaries = targets.map((t) => ({
      id: t.id,
      label: t.label,
      summary: summarizeTarget(runs.get(t.id) as TargetRuns),
    }));
    const stagesPresent = summaries.some((s) => s.summary.stages);
    const byId = (id: string) => summaries.find((s) => s.id === id)?.summary;
    const portkeySummary = byId('portkey');
    const marqueeOverPortkey: Record<string, ReturnType<typeof ratios>> = {};
    for (const id of ['marquee-echo', 'marquee-tiny']) {
      const s = byId(id);
      if (s && portkeySummary)
        marqueeOverPortkey[id] = ratios(s, portkeySummary);
    }

    console.log(`\n${table(summaries)}\n`);
    console.log(
      'Marquee / Portkey (c=1 p50 and TTFT: lower is better; c=50 throughput: higher is):',
    );
    for (const [id, r] of Object.entries(marqueeOverPortkey))
      console.log(
        `  ${id}: c=1 p50 x${r.c1P50 ?? '-'}, c=50 throughput x${r.c50Throughput ?? '-'}, TTFT p50 x${r.ttftP50 ?? '-'}`,
      );
    console.log('');
    if (!stagesPresent)
      console.log(
        `Marquee's per-stage histograms (${STAGE_METRIC}) are absent at ${marquee.metricsUrl ?? '(no metrics URL)'}.\n`,
      );
    else
      for (const s of summaries.filter((x) => x.summary.stages))
        console.log(`${stageLines(`Stages, ${s.label}`, s.summary)}\n`);
    for (const s of summaries)
      if (s.summary.stream?.errors)
        console.log(
          `${s.id}: ${s.summary.stream.errors} stream(s) failed, first: ${s.summary.stream.firstError}`,
        );
    if (streams500) console.log(concurrentStreamsLine(streams500));

    const skipped = marquee.skipped;
    report.write(
      `gateway-${new Date().toISOString().slice(0, 10)}.json`,
      {
        setup: {
          phaseSeconds: PHASE_S,
          rounds: ROUNDS,
          order:
            'for each round: c=1, then c=50, then streaming, each visiting every target in turn; then, once, the concurrent streams',
          loadGenerator: `autocannon ${version('autocannon')} in the bench process (c=1, c=${CONNECTIONS}); streaming: node:http, one kept-alive connection, streams back to back`,
          request: {
            nonStreamed: `POST /v1/chat/completions, one user message (${JSON.stringify(PROMPT)}), max_tokens 1, temperature 0`,
            streamed: `the same with stream: true, max_tokens ${STREAM_TOKENS}`,
            concurrentStreams: `${CONCURRENT} of the streamed request to Marquee + echo at once, with logprobs: true (one logprobs.content entry per token) and stream_options.include_usage, plain fetch, no retries, ${CONCURRENT_DEADLINE_MS / 1000} s deadline each`,
          },
          mock: 'bench/gateway/mock-openai.ts in its own process: answers at once, SSE chunks written back to back',
          portkey: `@portkey-ai/gateway ${version('@portkey-ai/gateway')} (build/start-server.js --headless, NODE_ENV=production), x-portkey-provider openai, x-portkey-custom-host the mock; its stream reader waits 25 ms before passing on the first SSE event (a setTimeout in build/start-server.js), so its TTFT has a 25 ms floor`,
          marquee: {
            mode: marquee.mode,
            origin: marquee.origin,
            models: marquee.models,
            skipped,
            settings: marquee.settings,
            git: tree,
          },
          versions: {
            node: process.version,
            '@portkey-ai/gateway': version('@portkey-ai/gateway'),
            hono: version('hono'),
            '@hono/node-server': version('@hono/node-server'),
            '@hono/node-ws': version('@hono/node-ws'),
            autocannon: version('autocannon'),
          },
          loadavg1AfterEachRound: loadPerRound,
          seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
          note: '2 shared cores: the load generator, the mock, Portkey or Marquee (gateway and worker), PostgreSQL and Redis all share them. Compare the figures within this run, not with other machines.',
        },
        stageHistograms: stagesPresent
          ? STAGE_METRIC
          : `absent (${STAGE_METRIC} not exposed)`,
        targets: Object.fromEntries(
          summaries.map((s) => [s.id, { label: s.label, ...s.summary }]),
        ),
        marqueeOverPortkey,
        streams500,
      },
      marqueeOverPortkey,
    );
    failed = false;
  } finally {
    await stop();
    if (failed || process.env.BENCH_KEEP)
      say(`logs of the mock and Portkey kept in ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:gateway: ${(error as Error).message}`);
  process.exit(1);
});
