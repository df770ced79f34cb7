import { SAMPLING_LIMITS } from '@marquee/contracts/queue';
import { REQUEST_LIMITS } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { samplingFields } from './sampling.schema';

const { messages: maxMessages, nameChars, textChars } = REQUEST_LIMITS;
const { topLogprobs } = SAMPLING_LIMITS;

const text = z.string().max(textChars, `at most ${textChars} characters`);

const textPart = z.object({ type: z.literal('text'), text });

const content = z.union(
  [
    text,
    z
      .array(textPart)
      .min(1, 'must not be empty')
      .max(maxMessages, `at most ${maxMessages} parts`),
  ],
  {
    error: 'expected a string or an array of text parts',
  },
);

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant'], {
    error: "expected one of 'system', 'developer', 'user', 'assistant'",
  }),
  content: content.nullish(),
  name: z.string().max(nameChars, `at most ${nameChars} characters`).optional(),
});

/** Body of `POST /v1/chat/completions`. */
export const chatCompletionRequestSchema = z
  .object({
    ...samplingFields,
    messages: z
      .array(message, { error: 'expected an array of messages' })
      .min(1, 'must contain at least one message')
      .max(maxMessages, `at most ${maxMessages} messages`),
    max_completion_tokens: samplingFields.max_tokens,
    logprobs: z
      .boolean({ error: 'expected a boolean' })
      .nullish()
      .transform((v) => v ?? undefined),
    top_logprobs: z
      .number()
      .int('expected an integer')
      .min(0, 'must be at least 0')
      .max(topLogprobs, `must be at most ${topLogprobs}`)
      .nullish()
      .transform((v) => v ?? undefined),
  })
  .check((ctx) => {
    if (ctx.value.top_logprobs !== undefined && ctx.value.logprobs !== true)
      ctx.issues.push({
        code: 'custom',
        input: ctx.value.top_logprobs,
        path: ['top_logprobs'],
        message: 'logprobs must be set to true if top_logprobs is used',
      });
  });

export type ChatCompletionRequest = z.output<
  typeof chatCompletionRequestSchema
>;
export type ChatMessageInput = ChatCompletionRequest['messages'][number];

/** Flattens OpenAI message content to the text the model sees; `developer` is a system role. */
export function toWorkerMessages(messages: ChatMessageInput[]) {
  return messages.map((m) => ({
    role: m.role === 'developer' ? ('system' as const) : m.role,
    content:
      typeof m.content === 'string'
        ? m.content
        : (m.content ?? []).map((p) => p.text).join(''),
  }));
}
