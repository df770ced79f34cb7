import { SAMPLING_LIMITS } from '@marquee/contracts/queue';
import { REQUEST_LIMITS } from '@marquee/gateway/util-http';
import { z } from 'zod';

/** Most choices a request may ask for. */
const MAX_N = SAMPLING_LIMITS.choices;

const { nameChars, stopChars } = REQUEST_LIMITS;
const { stopSequences } = SAMPLING_LIMITS;

/** An optional field that may also be sent as `null` (OpenAI's clients do); both read as absent. */
export const nullish = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((v) => v ?? undefined);

const penalty = z
  .number({ error: 'expected a number' })
  .min(-2, 'must be at least -2')
  .max(2, 'must be at most 2');

const stopString = z
  .string()
  .min(1, 'stop strings must not be empty')
  .max(stopChars, `stop strings are at most ${stopChars} characters`);

/**
 * The caller's id for its own end user (`user`, or `safety_identifier` which replaces it), recorded
 * as `endUser` in the request's log line so abuse can be traced to it; it changes no output.
 */
export const endUserFields = {
  user: nullish(
    z
      .string({ error: 'expected a string' })
      .max(nameChars, `at most ${nameChars} characters`),
  ),
  safety_identifier: nullish(
    z
      .string({ error: 'expected a string' })
      .max(nameChars, `at most ${nameChars} characters`),
  ),
};

/** Sampling fields shared by `/v1/completions` and `/v1/chat/completions`, with OpenAI's ranges. */
export const samplingFields = {
  ...endUserFields,
  model: z
    .string({ error: 'expected a string' })
    .min(1, 'must not be empty')
    .max(nameChars, `at most ${nameChars} characters`),
  n: nullish(
    z
      .number()
      .int('expected an integer')
      .min(1, 'must be at least 1')
      .max(MAX_N, `must be at most ${MAX_N}`),
  ),
  temperature: nullish(
    z.number().min(0, 'must be at least 0').max(2, 'must be at most 2'),
  ),
  top_p: nullish(
    z.number().gt(0, 'must be greater than 0').max(1, 'must be at most 1'),
  ),
  seed: nullish(
    z
      .number()
      .int('expected an integer')
      .min(Number.MIN_SAFE_INTEGER)
      .max(Number.MAX_SAFE_INTEGER),
  ),
  stop: nullish(
    z.union(
      [
        stopString,
        z
          .array(stopString)
          .max(stopSequences, `at most ${stopSequences} stop sequences`),
      ],
      { error: 'expected a string or an array of strings' },
    ),
  ),
  stream: nullish(z.boolean({ error: 'expected a boolean' })),
  // Strict: an option we do not know is refused, not dropped.
  stream_options: nullish(
    z.strictObject(
      {
        include_usage: nullish(z.boolean({ error: 'expected a boolean' })),
        /** Marquee never pads stream events, so only false (or nothing) is honoured. */
        include_obfuscation: nullish(
          z.literal(false, {
            error: 'only false is supported: stream events are not padded',
          }),
        ),
      },
      { error: 'expected an object' },
    ),
  ),
  max_tokens: nullish(
    z.number().int('expected an integer').min(1, 'must be at least 1'),
  ),
  /** Not OpenAI's, but vLLM's and most servers': sample from the k most likely tokens; 0 or -1 disables. */
  top_k: nullish(
    z.number().int('expected an integer').min(-1, 'must be at least -1'),
  ),
  presence_penalty: nullish(penalty),
  frequency_penalty: nullish(penalty),
  logit_bias: nullish(
    z.record(
      z.string().regex(/^\d+$/, 'keys must be token ids'),
      z
        .number({ error: 'expected a number' })
        .min(-100, 'must be at least -100')
        .max(100, 'must be at most 100'),
      { error: 'expected an object mapping token ids to biases' },
    ),
  ),
};

/** Sampling extras of the job payload from the shared request fields. */
export function samplingExtras(body: {
  top_k?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  logit_bias?: Record<string, number>;
}) {
  return {
    ...(body.top_k !== undefined && body.top_k > 0 ? { topK: body.top_k } : {}),
    ...(body.presence_penalty
      ? { presencePenalty: body.presence_penalty }
      : {}),
    ...(body.frequency_penalty
      ? { frequencyPenalty: body.frequency_penalty }
      : {}),
    ...(body.logit_bias && Object.keys(body.logit_bias).length > 0
      ? { logitBias: body.logit_bias }
      : {}),
  };
}

/** Stop sequences as a list. */
export function stopList(stop: string | string[] | undefined): string[] {
  if (stop === undefined) return [];
  return typeof stop === 'string' ? [stop] : stop;
}
