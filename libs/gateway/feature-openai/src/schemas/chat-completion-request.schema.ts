import { z } from 'zod';
import { samplingFields } from './sampling.schema';

const textPart = z.object({ type: z.literal('text'), text: z.string() });

const content = z.union(
  [z.string(), z.array(textPart).min(1, 'must not be empty')],
  {
    error: 'expected a string or an array of text parts',
  },
);

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant'], {
    error: "expected one of 'system', 'developer', 'user', 'assistant'",
  }),
  content: content.nullish(),
  name: z.string().optional(),
});

/** Body of `POST /v1/chat/completions`. */
export const chatCompletionRequestSchema = z.object({
  ...samplingFields,
  messages: z
    .array(message, { error: 'expected an array of messages' })
    .min(1, 'must contain at least one message'),
  max_completion_tokens: samplingFields.max_tokens,
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
