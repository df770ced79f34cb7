import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MANIFEST_FILE } from './model-files';

/**
 * What computes a text-generation model's tokens: `onnx` runs `model.onnx` in ONNX Runtime;
 * `echo` runs no model at all and answers with the prompt's own tokens (completion token `i` is
 * prompt token `i`, cycling), so a benchmark times the platform, not a network. An echo folder has
 * the tokenizer files, `config.json` (`vocab_size`) and `generation_config.json`, but no
 * `model.onnx`.
 */
export const MODEL_ENGINES = ['onnx', 'echo'] as const;

/** One of {@link MODEL_ENGINES}. */
export type ModelEngine = (typeof MODEL_ENGINES)[number];

/** Schema of `marquee.json`, the small manifest in every model folder. */
export const modelManifestSchema = z
  .strictObject({
    /** Model name as clients ask for it, e.g. `tiny-gpt2`. */
    name: z.string().min(1),
    /** What the model serves: `/v1/completions` + `/v1/chat/completions`, or `/v1/embeddings`. */
    task: z.enum(['text-generation', 'embedding']),
    /** Floating-point type of the weights, activations and outputs (`logits`, `present.*`). */
    dtype: z.enum(['fp32', 'fp16']),
    /** Maximum sequence length in tokens, prompt plus completion (GPT-2's `n_positions`). */
    contextLength: z.number().int().positive(),
    /** Token id that ends generation. */
    eosTokenId: z.number().int().nonnegative(),
    /** Token id prepended to prompts, when the model uses one. */
    bosTokenId: z.number().int().nonnegative().optional(),
    /** Hugging Face `model_type`, e.g. `gpt2` (`echo` for an echo model). */
    architecture: z.string().min(1),
    /** What computes the tokens, see {@link MODEL_ENGINES}. Default `onnx`. */
    engine: z.enum(MODEL_ENGINES).optional(),
  })
  .refine((m) => m.engine !== 'echo' || m.task === 'text-generation', {
    message: 'the echo engine serves only task text-generation',
    path: ['engine'],
  });

/** Parsed `marquee.json`. */
export type ModelManifest = z.infer<typeof modelManifestSchema>;

/** `marquee.json` is missing, not JSON, or does not match {@link modelManifestSchema}. */
export class InvalidModelManifestError extends Error {
  readonly code = 'InvalidModelManifest';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`Invalid model manifest ${file}: ${detail}`);
    this.name = 'InvalidModelManifestError';
  }
}

/** Validates an already-parsed manifest; `file` names it in the error. */
export function parseModelManifest(
  value: unknown,
  file: string = MANIFEST_FILE,
): ModelManifest {
  const result = modelManifestSchema.safeParse(value);
  if (!result.success) {
    const detail = result.error.issues
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new InvalidModelManifestError(file, detail);
  }
  return result.data;
}

/** Reads and validates `<dir>/marquee.json`; throws {@link InvalidModelManifestError} naming the file. */
export async function readModelManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidModelManifestError(file, (error as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidModelManifestError(
      file,
      `not valid JSON (${(error as Error).message})`,
    );
  }
  return parseModelManifest(json, file);
}
