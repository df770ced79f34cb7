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
});

export type CompletionRequest = z.output<typeof completionRequestSchema>;
