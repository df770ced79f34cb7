import { z } from 'zod';

/** Most choices a request may ask for. */
export const MAX_N = 16;

const nullish = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((v) => v ?? undefined);

/** Sampling fields shared by `/v1/completions` and `/v1/chat/completions`, with OpenAI's ranges. */
export const samplingFields = {
  model: z.string({ error: 'expected a string' }).min(1, 'must not be empty'),
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
    z.union([
      z.string().min(1, 'stop strings must not be empty'),
      z
        .array(z.string().min(1, 'stop strings must not be empty'))
        .max(4, 'at most 4 stop sequences'),
    ]),
  ),
  stream: nullish(z.boolean({ error: 'expected a boolean' })),
  stream_options: nullish(
    z.object({
      include_usage: nullish(z.boolean({ error: 'expected a boolean' })),
    }),
  ),
  max_tokens: nullish(
    z.number().int('expected an integer').min(1, 'must be at least 1'),
  ),
};

/** Stop sequences as a list. */
export function stopList(stop: string | string[] | undefined): string[] {
  if (stop === undefined) return [];
  return typeof stop === 'string' ? [stop] : stop;
}
