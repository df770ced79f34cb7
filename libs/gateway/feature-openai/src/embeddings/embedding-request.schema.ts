import { z } from 'zod';
import { endUserFields } from '../schemas/sampling.schema';

const tokenIds = z
  .array(
    z
      .number()
      .int('token ids are integers')
      .nonnegative('token ids are non-negative'),
  )
  .min(1, 'must not be empty');

/** Most inputs in one request, as OpenAI allows. */
export const MAX_EMBEDDING_INPUTS = 2048;

/** Body of `POST /v1/embeddings`. */
export const embeddingRequestSchema = z.object({
  ...endUserFields,
  model: z.string({ error: 'expected a string' }).min(1, 'must not be empty'),
  input: z.union(
    [
      z.string().min(1, 'must not be empty'),
      z
        .array(z.string().min(1, 'inputs must not be empty'))
        .min(1, 'must not be empty')
        .max(MAX_EMBEDDING_INPUTS, `at most ${MAX_EMBEDDING_INPUTS} inputs`),
      tokenIds,
      z
        .array(tokenIds)
        .min(1, 'must not be empty')
        .max(MAX_EMBEDDING_INPUTS, `at most ${MAX_EMBEDDING_INPUTS} inputs`),
    ],
    {
      error:
        'expected a string, an array of strings, token ids, or arrays of token ids',
    },
  ),
  encoding_format: z
    .enum(['float', 'base64'], { error: "expected 'float' or 'base64'" })
    .nullish()
    .transform((v) => v ?? 'float'),
  dimensions: z
    .number()
    .int('expected an integer')
    .min(1, 'must be at least 1')
    .nullish()
    .transform((v) => v ?? undefined),
});

export type EmbeddingRequest = z.output<typeof embeddingRequestSchema>;
