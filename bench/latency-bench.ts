/**
 * `npm run bench:latency` (with `npm start` running): end-to-end latency of a 20-token
 * completion through gateway, queue, worker and gRPC, with the official `openai` client —
 * non-streamed (total time) and streamed (time to first token, total). Runs the two side by
 * side, interleaved, so machine noise hits both alike.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startReport, summary } from './bench-report';

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
  const report = startReport('npm start & npm run bench:latency');
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
  const milliseconds = {
    nonStreamedTotal: summary(whole),
    streamedTimeToFirstToken: summary(streamFirst),
    streamedTotal: summary(streamTotal),
  };
  report.write(
    'latency-cpu.json',
    {
      setup: {
        model: MODEL,
        completionTokens: TOKENS,
        runs: RUNS,
        path: 'openai client -> gateway -> BullMQ -> worker (ONNX, CPU) -> gRPC -> gateway',
      },
      milliseconds,
    },
    milliseconds,
  );
}

void main();
