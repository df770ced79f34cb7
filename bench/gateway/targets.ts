/**
 * What the gateway bench calls: the mock directly (the floor), Portkey proxying to the mock, and
 * Marquee with each of its models, plus Marquee's `GET /v1/models` (authentication only).
 */
import type { Call } from './load';
import type { MarqueeTarget } from './marquee-stack';

/** ~15 tokens, as a short chat turn. */
export const PROMPT =
  'Pitch a short heist film set in a lighthouse during a winter storm.';
/** Tokens per streamed answer. */
export const STREAM_TOKENS = 16;

export interface Target {
  /** Stable id, as in BENCH_TARGETS and the results JSON. */
  id: string;
  /** What the table calls it. */
  label: string;
  /** The non-streamed call (a 1-token chat completion, or the models list). */
  call: Call;
  /** The streamed call; none for `GET /v1/models`. */
  stream: Call | null;
  /** Whether Marquee's stage histograms belong to this target's runs. */
  marqueeInference: boolean;
}

function chat(
  url: string,
  headers: Record<string, string>,
  model: string,
  stream: boolean,
): Call {
  return {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      model,
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: stream ? STREAM_TOKENS : 1,
      temperature: 0,
      ...(stream ? { stream: true } : {}),
    }),
  };
}

function pair(url: string, headers: Record<string, string>, model: string) {
  return {
    call: chat(url, headers, model, false),
    stream: chat(url, headers, model, true),
  };
}

/** Every target, in the order each phase visits them. */
export function allTargets(
  mockOrigin: string,
  portkeyOrigin: string,
  marquee: MarqueeTarget,
): Target[] {
  const upstream = { authorization: 'Bearer sk-mock' };
  const targets: Target[] = [
    {
      id: 'mock',
      label: 'mock directly (floor)',
      ...pair(`${mockOrigin}/v1/chat/completions`, upstream, 'mock'),
      marqueeInference: false,
    },
    {
      id: 'portkey',
      label: 'Portkey -> mock',
      ...pair(
        `${portkeyOrigin}/v1/chat/completions`,
        {
          ...upstream,
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': `${mockOrigin}/v1`,
        },
        'mock',
      ),
      marqueeInference: false,
    },
  ];
  const key = { authorization: `Bearer ${marquee.apiKey}` };
  for (const model of marquee.models)
    targets.push({
      id: model.kind === 'echo' ? 'marquee-echo' : 'marquee-tiny',
      label: `Marquee, ${model.kind}`,
      ...pair(`${marquee.origin}/v1/chat/completions`, key, model.name),
      marqueeInference: true,
    });
  targets.push({
    id: 'marquee-models',
    label: 'Marquee GET /v1/models (auth only)',
    call: { url: `${marquee.origin}/v1/models`, method: 'GET', headers: key },
    stream: null,
    marqueeInference: false,
  });
  const wanted = process.env.BENCH_TARGETS?.split(',').map((s) => s.trim());
  return wanted ? targets.filter((t) => wanted.includes(t.id)) : targets;
}
