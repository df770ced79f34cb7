import { SAMPLING_LIMITS, type PromptPayload } from '@marquee/contracts/queue';
import { REQUEST_LIMITS } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { nullish, samplingFields } from './sampling.schema';
import {
  functionName,
  MAX_TOOLS,
  responseFormatSchema,
  structuredOutputIssues,
  toolChoiceSchema,
  toolSchema,
} from './structured-output.schema';

const { messages: maxMessages, nameChars, textChars } = REQUEST_LIMITS;
const { topLogprobs } = SAMPLING_LIMITS;

const text = z.string().max(textChars, `at most ${textChars} characters`);

const textPart = z.strictObject({ type: z.literal('text'), text });

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

const name = z
  .string()
  .max(nameChars, `at most ${nameChars} characters`)
  .optional();

const id = z
  .string({ error: 'expected a string' })
  .min(1, 'must not be empty')
  .max(nameChars, `at most ${nameChars} characters`);

const toolCall = z.strictObject({
  id,
  type: z.literal('function', { error: "expected 'function'" }),
  // The template writes the name into the prompt as it is: the rule of function names.
  function: z.strictObject({ name: functionName, arguments: text }),
});

const message = z.discriminatedUnion(
  'role',
  [
    z.strictObject({
      role: z.enum(['system', 'developer', 'user']),
      content: content.nullish(),
      name,
    }),
    z.strictObject({
      role: z.literal('assistant'),
      content: content.nullish(),
      name,
      tool_calls: z
        .array(toolCall, { error: 'expected an array of tool calls' })
        .max(MAX_TOOLS, `at most ${MAX_TOOLS} tool calls`)
        .optional(),
      refusal: z.null({ error: 'only null is accepted' }).optional(),
    }),
    z.strictObject({
      role: z.literal('tool'),
      content: content.nullish(),
      tool_call_id: id,
    }),
  ],
  {
    error:
      "expected a role of 'system', 'developer', 'user', 'assistant' or 'tool'",
  },
);

/** Body of `POST /v1/chat/completions`. */
export const chatCompletionRequestSchema = z
  .object({
    ...samplingFields,
    messages: z
      .array(message, { error: 'expected an array of messages' })
      .min(1, 'must contain at least one message')
      .max(maxMessages, `at most ${maxMessages} messages`),
    max_completion_tokens: samplingFields.max_tokens,
    logprobs: nullish(z.boolean({ error: 'expected a boolean' })),
    top_logprobs: nullish(
      z
        .number()
        .int('expected an integer')
        .min(0, 'must be at least 0')
        .max(topLogprobs, `must be at most ${topLogprobs}`),
    ),
    tools: nullish(
      z
        .array(toolSchema, { error: 'expected an array of tools' })
        .max(MAX_TOOLS, `at most ${MAX_TOOLS} tools`),
    ),
    tool_choice: nullish(toolChoiceSchema),
    parallel_tool_calls: nullish(z.boolean({ error: 'expected a boolean' })),
    response_format: nullish(responseFormatSchema),
  })
  .check((ctx) => {
    const body = ctx.value;
    if (body.top_logprobs !== undefined && body.logprobs !== true)
      ctx.issues.push({
        code: 'custom',
        input: body.top_logprobs,
        path: ['top_logprobs'],
        message: 'logprobs must be set to true if top_logprobs is used',
      });
    // Content may be left out only by an assistant turn that calls functions.
    body.messages.forEach((m, i) => {
      if (m.content !== null && m.content !== undefined) return;
      if (m.role === 'assistant' && m.tool_calls?.length) return;
      ctx.issues.push({
        code: 'custom',
        input: m.content,
        path: ['messages', i, 'content'],
        message:
          m.role === 'assistant'
            ? 'is required in assistant messages without tool_calls'
            : `is required in ${m.role} messages`,
      });
    });
    for (const { path, message } of structuredOutputIssues(body))
      ctx.issues.push({
        code: 'custom',
        input: undefined,
        path: path.map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
        message,
      });
  });

export type ChatCompletionRequest = z.output<
  typeof chatCompletionRequestSchema
>;
export type ChatMessageInput = ChatCompletionRequest['messages'][number];

const flatten = (c: z.output<typeof content> | null | undefined) =>
  typeof c === 'string' ? c : (c ?? []).map((p) => p.text).join('');

/**
 * The worker's chat prompt: content flattened to the text the model sees, `developer` as a system
 * role, tool calls and results kept for the template, and the functions it lists.
 */
export function chatPrompt(
  messages: ChatMessageInput[],
  tools?: Extract<PromptPayload, { kind: 'chat' }>['tools'],
): PromptPayload {
  return {
    kind: 'chat',
    messages: messages.map((m) => {
      switch (m.role) {
        case 'assistant':
          return {
            role: 'assistant' as const,
            content: flatten(m.content),
            ...(m.tool_calls?.length
              ? {
                  toolCalls: m.tool_calls.map((c) => ({
                    id: c.id,
                    name: c.function.name,
                    arguments: c.function.arguments,
                  })),
                }
              : {}),
          };
        case 'tool':
          return {
            role: 'tool' as const,
            content: flatten(m.content),
            toolCallId: m.tool_call_id,
          };
        default:
          return {
            role: m.role === 'developer' ? ('system' as const) : m.role,
            content: flatten(m.content),
          };
      }
    }),
    ...(tools?.length ? { tools } : {}),
  };
}
