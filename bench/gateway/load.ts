/**
 * The two ways the gateway bench loads a target: autocannon at a fixed number of connections
 * (c=1 for latency, c=50 for throughput), and a streaming client that times every token.
 */
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';

/** One HTTP call, as every target is asked it. */
export interface Call {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

/** A closed-loop run at fixed concurrency. Times in milliseconds. */
export interface LoadRun {
  connections: number;
  seconds: number;
  /** Answers with a 2xx status. */
  ok: number;
  /** Non-2xx answers, connection errors and timeouts together. */
  errors: number;
  requestsPerSecond: number;
  /** Latency of each 2xx answer, from autocannon's per-response timer (sub-millisecond). */
  latencies: number[];
}

/** Runs `call` with `connections` clients back to back for `seconds`. */
export async function fixedConcurrency(
  call: Call,
  connections: number,
  seconds: number,
): Promise<LoadRun> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: call.url,
    method: call.method,
    headers: call.headers,
    body: call.body,
    connections,
    duration: seconds,
    timeout: 30,
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  return {
    connections,
    seconds: result.duration,
    ok: result['2xx'],
    errors: result.non2xx + result.errors + result.timeouts,
    requestsPerSecond: result['2xx'] / result.duration,
    latencies,
  };
}

/** Streamed requests one after another. Times in milliseconds. */
export interface StreamRun {
  streams: number;
  /** Streams that failed: not 200, no `[DONE]`, an error event, or a socket error. */
  errors: number;
  /** Request sent to the first token's bytes, per stream. */
  timeToFirstToken: number[];
  /** Between consecutive tokens (0 when two arrive in one read), over every stream. */
  interTokenGap: number[];
  /** Request sent to `[DONE]`, per stream. */
  total: number[];
  /** Tokens counted per stream (chunks carrying non-empty `text` or `delta.content`). */
  tokens: number[];
  /** First error seen, for the report. */
  firstError: string | null;
}

interface Chunk {
  error?: { message?: string };
  choices?: { text?: string | null; delta?: { content?: string | null } }[];
}

/** A chunk with text: the opening chunk (`role`, `content: ''`) and the finish chunk are not tokens. */
function isToken(chunk: Chunk): boolean {
  const choice = chunk.choices?.[0];
  return Boolean(choice?.text || choice?.delta?.content);
}

/** Sends one streamed request and times each token as its bytes are read. */
function oneStream(
  call: Call,
  agent: Agent,
): Promise<{
  firstToken: number;
  gaps: number[];
  total: number;
  tokens: number;
  error: string | null;
}> {
  return new Promise((resolve) => {
    const started = performance.now();
    const times: number[] = [];
    let done = false;
    let error: string | null = null;
    let buffer = '';
    const finish = () =>
      resolve({
        firstToken: times.length ? times[0] - started : Number.NaN,
        gaps: times.slice(1).map((t, i) => t - times[i]),
        total: performance.now() - started,
        tokens: times.length,
        error: error ?? (done ? null : 'stream ended without [DONE]'),
      });
    const req = request(
      call.url,
      { method: call.method, headers: call.headers, agent },
      (res) => {
        if (res.statusCode !== 200) error = `status ${res.statusCode}`;
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          const now = performance.now();
          const { data: events, rest } = takeSseData(buffer + text);
          buffer = rest;
          for (const data of events) {
            if (data === '[DONE]') {
              done = true;
              continue;
            }
            try {
              const chunk = JSON.parse(data) as Chunk;
              if (chunk.error) error = chunk.error.message ?? 'error event';
              else if (isToken(chunk)) times.push(now);
            } catch {
              error = `not JSON: ${data.slice(0, 80)}`;
            }
          }
        });
        res.on('end', finish);
        res.on('error', (e) => {
          error = e.message;
          finish();
        });
      },
    );
    req.on('error', (e) => {
      error = e.message;
      finish();
    });
    req.end(call.body);
  });
}

/** Streams `call` one request at a time for `seconds` over one kept-alive connection. */
export async function streamSequential(
  call: Call,
  seconds: number,
): Promise<StreamRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const run: StreamRun = {
    streams: 0,
    errors: 0,
    timeToFirstToken: [],
    interTokenGap: [],
    total: [],
    tokens: [],
    firstError: null,
  };
  const deadline = performance.now() + seconds * 1000;
  try {
    while (performance.now() < deadline) {
      const one = await oneStream(call, agent);
      run.streams += 1;
      if (one.error) {
        run.errors += 1;
        run.firstError ??= one.error;
        continue;
      }
      run.timeToFirstToken.push(one.firstToken);
      run.interTokenGap.push(...one.gaps);
      run.total.push(one.total);
      run.tokens.push(one.tokens);
    }
  } finally {
    agent.destroy();
  }
  return run;
}

/**
 * The `data:` payloads of the complete SSE events at the start of `buffer`, and what is left of
 * it (an event still arriving).
 */
export function takeSseData(buffer: string): { data: string[]; rest: string } {
  const data: string[] = [];
  let rest = buffer;
  let end: number;
  while ((end = rest.indexOf('\n\n')) >= 0) {
    for (const line of rest.slice(0, end).split('\n'))
      if (line.startsWith('data:')) data.push(line.slice(5).trim());
    rest = rest.slice(end + 2);
  }
  return { data, rest };
}
