import { openai } from './support/clients';
import { e2eStack } from './support/stack';

const { model, apiKey, metricsOrigin } = e2eStack();

const STAGES = [
  'auth',
  'admission',
  'enqueue',
  'queue_wait',
  'worker_pickup',
  'first_token',
  'last_token',
  'report',
  'settlement',
  'response',
];

/** Each stage's observation count in the gateway's exposition. */
async function stageCounts(): Promise<Map<string, number>> {
  const text = await (await fetch(`${metricsOrigin}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(
    /^marquee_request_stage_seconds_count\{[^}]*stage="([a-z_]+)"[^}]*\} (\S+)$/gm,
  ))
    counts.set(match[1], Number(match[2]));
  return counts;
}

describe('request stage breakdown', () => {
  it('records every stage of a streamed completion in marquee_request_stage_seconds', async () => {
    const before = await stageCounts();
    const stream = await openai(apiKey).completions.create({
      model,
      prompt: 'A heist film set in',
      max_tokens: 4,
      stream: true,
    });
    for await (const chunk of stream) void chunk;
    // The response stage is recorded as the last bytes go out.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await stageCounts();
    const missing = STAGES.filter(
      (stage) => (after.get(stage) ?? 0) <= (before.get(stage) ?? 0),
    );
    expect(missing).toEqual([]);
  });
});
