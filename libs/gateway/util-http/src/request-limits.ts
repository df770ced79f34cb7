/**
 * Every request limit of the public and admin APIs, in one place. The edge checks them cheaply
 * (Fastify's body limit, the request schemas); where a limit binds deeper (a model's context
 * length, the batch a worker runs), that check stays where it binds.
 */
export const REQUEST_LIMITS = {
  /** Largest request body, in bytes (413 beyond it). */
  bodyBytes: 8 * 1024 * 1024,
  /** Messages in one chat request. */
  messages: 2048,
  /** Prompts in one completion request (an array of strings or of token-id arrays). */
  prompts: 2048,
  /** Characters of one prompt, message content, or text part. */
  textChars: 1_048_576,
  /** Characters of a model name, a message `name`, or `user`. */
  nameChars: 256,
  /** Characters of each stop sequence (how many: the queue contracts' SAMPLING_LIMITS). */
  stopChars: 256,
} as const;
