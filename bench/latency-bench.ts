/**
 * `npm run bench:latency` (with `npm start` running): end-to-end latency of a 20-token
 * completion through gateway, queue, worker and gRPC, with the official `openai` client —
 * non-streamed (total time) and streamed (time to first token, total). Runs the two side by
 * side, interleaved, so machine noise hits both alike.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';

const BASE_URL = process.env.MARQUEE_BASE_URL ?? 'http://localhost:8080/v1';
const KEY =
  process.env.MARQUEE_API_KEY ??
  (
    JSON.parse(
      readFileSync(join(__dirname, '..', '.marquee', 'demo-key.json'), 'utf8'),
    ) as { key: string }
  ).key;
const MODEL = process.env.MARQUEE_MODEL ?? 'marquee-tiny';
const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const TOKENS = 20;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(
    sorted[
      Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
    ].toFixed(2),
  );
};
const summary = (values: number[]) => ({
  p50: percentile(values, 50),
  p90: percentile(values, 90),
  p99: percentile(values, 99),
  n: values.length,
});

async function main(): Promise<void> {
  const client = new OpenAI({ baseURL: BASE_URL, apiKey: KEY, maxRetries: 0 });
  const request = {
    model: MODEL,
    prompt: 'A heist film set in',
    max_tokens: TOKENS,
    temperature: 0,
  };
  const whole: number[] = [];
  const streamFirst: number[] = [];
  const streamTotal: number[] = [];
  const load = loadavg()[0];
  for (let i = 0; i < RUNS + 5; i++) {
    let t0 = performance.now();
    const response = await client.completions.create(request);
    const wholeMs = performance.now() - t0;
    if (response.usage?.completion_tokens !== TOKENS)
      throw new Error('expected exactly 20 tokens');
    t0 = performance.now();
    let first = 0;
    const stream = await client.completions.create({
      ...request,
      stream: true,
    });
    for await (const chunk of stream)
      if (!first && chunk.choices[0]?.text) first = performance.now() - t0;
    const total = performance.now() - t0;
    if (i < 5) continue; // warm-up
    whole.push(wholeMs);
    streamFirst.push(first);
    streamTotal.push(total);
  }
  const out = {
    command: 'npm start & npm run bench:latency',
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      node: process.version,
      loadavg1Before: load,
      loadavg1After: loadavg()[0],
    },
    date: new Date().toISOString(),
    setup: {
      model: MODEL,
      completionTokens: TOKENS,
      runs: RUNS,
      path: 'openai client -> gateway -> BullMQ -> worker (ONNX, CPU) -> gRPC -> gateway',
    },
    milliseconds: {
      nonStreamedTotal: summary(whole),
      streamedTimeToFirstToken: summary(streamFirst),
      streamedTotal: summary(streamTotal),
    },
  };
  writeFileSync(
    process.env.BENCH_OUT ?? join(__dirname, 'results', 'latency-cpu.json'),
    `${JSON.stringify(out, null, 2)}\n`,
  );
  console.log(JSON.stringify(out.milliseconds));
}

void main();
