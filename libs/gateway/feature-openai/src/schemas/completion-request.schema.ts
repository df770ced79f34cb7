import { REQUEST_LIMITS } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { samplingFields } from './sampling.schema';

const { prompts: maxPrompts, textChars } = REQUEST_LIMITS;

const text = z.string().max(textChars, `at most ${textChars} characters`);

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
      text,
      z
        .array(text)
        .min(1, 'must not be empty')
        .max(maxPrompts, `at most ${maxPrompts} prompts`),
      tokenIds,
      z
        .array(tokenIds)
        .min(1, 'must not be empty')
        .max(maxPrompts, `at most ${maxPrompts} prompts`),
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
