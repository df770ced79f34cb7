import { z } from 'zod';
import { samplingFields } from './sampling.schema';

const tokenIds = z
  .array(
    z
      .number()
      .int('token ids are integers')
      .nonnegative('token ids are non-negative'),
  )
  .min(1, 'must not be empty');

/** Body of `POST /v1/completions`. */
export const completionRequestSchema = z.object({
  ...samplingFields,
  prompt: z.union(
    [
      z.string(),
      z.array(z.string()).min(1, 'must not be empty'),
      tokenIds,
      z.array(tokenIds).min(1, 'must not be empty'),
    ],
    { error: 'expected a string, an array of strings, or token ids' },
  ),
  /** Legacy completions: how many top alternatives to report per token (0..5); 0 = only the chosen token. */
  logprobs: z
    .number()
    .int('expected an integer')
    .min(0, 'must be at least 0')
    .max(5, 'must be at most 5')
    .nullish()
    .transform((v) => v ?? undefined),
});

export type CompletionRequest = z.output<typeof completionRequestSchema>;
