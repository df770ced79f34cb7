import { z } from 'zod';
import { embeddingRequestSchema } from '../embeddings/embedding-request.schema';
import { chatCompletionRequestSchema } from './chat-completion-request.schema';
import { completionRequestSchema } from './completion-request.schema';

/**
 * A documented OpenAI request field that an endpoint's schema does not declare, and why Marquee
 * refuses it. A field the schema declares is always accepted (the schema validates it), so
 * declaring a field in a schema is all it takes to support it; the rule then no longer applies.
 */
export interface FieldRule {
  /**
   * Values that change nothing (the field's default, say), accepted and dropped. `null` always
   * is. Without it, every other value is refused.
   */
  harmless?: (
    value: unknown,
    body: Readonly<Record<string, unknown>>,
  ) => boolean;
  /** Why the field (or this value of it) is refused: a sentence for the client. */
  reason: string;
}

/** The refused OpenAI fields of one endpoint, by name. */
export type RequestFields = Readonly<Record<string, FieldRule>>;

const isEmptyObject = (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).length === 0;

/** `POST /v1/chat/completions`: OpenAI's fields Marquee does not implement. */
export const CHAT_COMPLETION_FIELDS: RequestFields = {
  audio: {
    reason: "Audio output is not supported: Marquee's models generate text.",
  },
  modalities: {
    harmless: (v) => Array.isArray(v) && v.every((m) => m === 'text'),
    reason: `Only ["text"] is supported: Marquee's models generate text.`,
  },
  prediction: { reason: 'Predicted outputs are not supported.' },
  reasoning_effort: {
    reason: "Marquee's models are not reasoning models.",
  },
  verbosity: {
    reason:
      "Output verbosity is not supported; bound the answer with 'max_completion_tokens'.",
  },
  web_search_options: { reason: 'Web search is not supported.' },
  functions: {
    reason: "'functions' is deprecated and not supported; use 'tools' instead.",
  },
  function_call: {
    reason:
      "'function_call' is deprecated and not supported; use 'tool_choice' instead.",
  },
  store: {
    harmless: (v) => v === false,
    reason:
      "Stored completions are not supported; leave 'store' out or set it to false.",
  },
  metadata: {
    harmless: isEmptyObject,
    reason:
      'Metadata is kept only with stored completions, which are not supported.',
  },
  service_tier: {
    harmless: (v) => v === 'auto' || v === 'default',
    reason: "Marquee has one service tier: use 'auto' or 'default'.",
  },
  prompt_cache_key: { reason: 'Marquee keeps no prompt cache.' },
  prompt_cache_retention: { reason: 'Marquee keeps no prompt cache.' },
};

/** `POST /v1/completions`: OpenAI's fields Marquee does not implement. */
export const COMPLETION_FIELDS: RequestFields = {
  echo: {
    harmless: (v) => v === false,
    reason: 'Echoing the prompt is not supported.',
  },
  suffix: {
    harmless: (v) => v === '',
    reason: 'Completing before a suffix (insertion) is not supported.',
  },
  best_of: {
    harmless: (v, body) => v === 1 || v === (body.n ?? 1),
    reason:
      "Best-of sampling on the server is not supported: every choice generated is returned, so set 'n' instead.",
  },
};

/** `POST /v1/embeddings`: every OpenAI field is implemented. */
export const EMBEDDING_FIELDS: RequestFields = {};

const tables = new Map<z.ZodType, RequestFields>([
  [chatCompletionRequestSchema, CHAT_COMPLETION_FIELDS],
  [completionRequestSchema, COMPLETION_FIELDS],
  [embeddingRequestSchema, EMBEDDING_FIELDS],
]);

/** The refused fields of the endpoint whose body `schema` parses (none for another schema). */
export function requestFieldsOf(schema: z.ZodType): RequestFields {
  return tables.get(schema) ?? {};
}

const declared = new WeakMap<z.ZodType, ReadonlySet<string> | null>();

/**
 * The top-level keys a body schema declares, read from its zod object (through `.check()`,
 * refinements and transforms); null when it takes any key (a loose object or a catchall).
 */
export function declaredKeys(schema: z.ZodType): ReadonlySet<string> | null {
  const known = declared.get(schema);
  if (known !== undefined) return known;
  let keys: ReadonlySet<string> | null;
  if (schema instanceof z.ZodObject) {
    const catchall = schema._zod.def.catchall;
    keys =
      catchall === undefined || catchall instanceof z.ZodNever
        ? new Set(Object.keys(schema.shape))
        : null;
  } else if (schema instanceof z.ZodPipe) {
    keys = declaredKeys(schema.in as z.ZodType);
  } else {
    throw new Error(
      `a request body schema must be a zod object, not ${schema._zod.def.type}`,
    );
  }
  declared.set(schema, keys);
  return keys;
}
