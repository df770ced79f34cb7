import { REQUEST_LIMITS } from '@marquee/gateway/util-http';
import { z } from 'zod';
import {
  endUserFields,
  nullish,
  samplingFields,
} from '../schemas/sampling.schema';
import {
  MAX_TOOLS,
  responseFormatSchema,
  structuredOutputIssues,
  toolSchema,
} from '../schemas/structured-output.schema';
import { chatShapes, responsesPath } from './structured-output-shapes';

const { messages: maxItems, textChars } = REQUEST_LIMITS;

const text = z
  .string({ error: 'expected a string' })
  .max(textChars, `at most ${textChars} characters`);

const id = z.string({ error: 'expected a string' }).min(1, 'must not be empty');

/** Text parts of a message: the client's (`input_text`) or the model's, sent back (`output_text`). */
const textPart = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('input_text'), text }),
    z.object({ type: z.literal('output_text'), text }),
  ],
  {
    error:
      "only 'input_text' parts (and 'output_text' in assistant messages) are supported: Marquee's models read text",
  },
);

const content = z.union(
  [text, z.array(textPart).max(maxItems, `at most ${maxItems} parts`)],
  { error: 'expected a string or an array of text parts' },
);

const itemStatus = nullish(z.enum(['in_progress', 'completed', 'incomplete']));

const message = z.object({
  type: z.literal('message'),
  role: z.enum(['user', 'system', 'developer', 'assistant'], {
    error: "expected a role of 'user', 'system', 'developer' or 'assistant'",
  }),
  content,
  // What an output message sent back as input carries; not shown to the model.
  id: nullish(z.string()),
  status: itemStatus,
});

const functionCall = z.object({
  type: z.literal('function_call'),
  call_id: id,
  name: id,
  arguments: text,
  id: nullish(z.string()),
  status: itemStatus,
});

const functionCallOutput = z.object({
  type: z.literal('function_call_output'),
  call_id: id,
  output: z.union(
    [
      text,
      z
        .array(textPart)
        .max(maxItems, `at most ${maxItems} parts`)
        .refine((parts) => parts.every((p) => p.type === 'input_text'), {
          message: "only 'input_text' parts are supported",
        }),
    ],
    { error: 'expected a string or an array of input_text parts' },
  ),
  id: nullish(z.string()),
  status: itemStatus,
});

/** An output item of one of the tenant's stored responses, by its id. */
const itemReference = z.object({ type: z.literal('item_reference'), id });

const inputItem = z.preprocess(
  // A message may leave its `type` out (OpenAI's "easy input message").
  (v) =>
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    (v as { type?: unknown }).type === undefined &&
    'role' in v
      ? { ...v, type: 'message' }
      : v,
  z.discriminatedUnion(
    'type',
    [message, functionCall, functionCallOutput, itemReference],
    {
      error:
        "expected an item of type 'message', 'function_call', 'function_call_output' or 'item_reference'; other items (reasoning, built-in tool calls) are not supported",
    },
  ),
);

const functionFields = toolSchema.shape.function.shape;

/** A function tool, flat as the Responses API has it. */
const tool = z.object(
  {
    type: z.literal('function', {
      error:
        "only 'function' tools are supported: Marquee runs no built-in tools (web search, file search, code interpreter, MCP...)",
    }),
    name: functionFields.name,
    description: nullish(z.string({ error: 'expected a string' })),
    parameters: nullish(functionFields.parameters.unwrap()),
    strict: functionFields.strict,
  },
  { error: 'expected a function tool' },
);

const toolChoice = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z.object({ type: z.literal('function'), name: functionFields.name }),
  ],
  {
    error:
      'expected \'none\', \'auto\', \'required\' or {"type": "function", "name": ...}',
  },
);

const [, , jsonSchemaFormat] = responseFormatSchema.options;

/** `text.format`: chat's `response_format`, with the json_schema fields one level up. */
const textFormat = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('text') }),
    z.object({ type: z.literal('json_object') }),
    z.object({
      type: z.literal('json_schema'),
      ...jsonSchemaFormat.shape.json_schema.shape,
    }),
  ],
  { error: "expected a type of 'text', 'json_object' or 'json_schema'" },
);

const metadata = z
  .record(
    z.string().max(64, 'keys are at most 64 characters'),
    z
      .string({ error: 'values must be strings' })
      .max(512, 'values are at most 512 characters'),
    { error: 'expected an object of string values' },
  )
  .refine((m) => Object.keys(m).length <= 16, {
    message: 'at most 16 keys',
  });

/**
 * Body of `POST /v1/responses`. Every field Marquee honours is declared here; OpenAI's others
 * are refused (see responses-fields.ts), anything else is an unrecognized argument.
 */
export const responseRequestSchema = z
  .object({
    ...endUserFields,
    model: samplingFields.model,
    input: z.union(
      [
        text,
        z
          .array(inputItem, { error: 'expected an array of items' })
          .max(maxItems, `at most ${maxItems} items`),
      ],
      { error: 'expected a string or an array of input items' },
    ),
    instructions: nullish(text),
    max_output_tokens: samplingFields.max_tokens,
    /** Bounds built-in tool calls, of which Marquee makes none: always honoured. */
    max_tool_calls: nullish(
      z.number().int('expected an integer').min(1, 'must be at least 1'),
    ),
    temperature: samplingFields.temperature,
    top_p: samplingFields.top_p,
    text: nullish(
      z.strictObject(
        {
          format: nullish(textFormat),
          verbosity: nullish(
            z.literal('medium', {
              error:
                "only 'medium' (the default) is supported; bound the answer with 'max_output_tokens'",
            }),
          ),
        },
        { error: 'expected an object' },
      ),
    ),
    tools: nullish(
      z
        .array(tool, { error: 'expected an array of tools' })
        .max(MAX_TOOLS, `at most ${MAX_TOOLS} tools`),
    ),
    tool_choice: nullish(toolChoice),
    parallel_tool_calls: nullish(z.boolean({ error: 'expected a boolean' })),
    stream: samplingFields.stream,
    stream_options: nullish(
      z.strictObject(
        {
          include_obfuscation: nullish(
            z.literal(false, {
              error: 'only false is supported: stream events are not padded',
            }),
          ),
        },
        { error: 'expected an object' },
      ),
    ),
    store: nullish(z.boolean({ error: 'expected a boolean' })),
    previous_response_id: nullish(id),
    metadata: nullish(metadata),
  })
  .check((ctx) => {
    const body = ctx.value;
    if (Array.isArray(body.input))
      body.input.forEach((item, i) => {
        if (item.type !== 'message' || item.role === 'assistant') return;
        if (typeof item.content === 'string') return;
        const at = item.content.findIndex((p) => p.type === 'output_text');
        if (at >= 0)
          ctx.issues.push({
            code: 'custom',
            input: item.content[at],
            path: ['input', i, 'content', at, 'type'],
            message:
              "'output_text' parts are only accepted in assistant messages",
          });
      });
    for (const issue of structuredOutputIssues(chatShapes(body)))
      ctx.issues.push({
        code: 'custom',
        input: undefined,
        path: responsesPath(issue.path),
        message: issue.message.replace('response_format', 'text.format'),
      });
  });

export type ResponseRequest = z.output<typeof responseRequestSchema>;
export type InputItem = Extract<
  ResponseRequest['input'],
  readonly unknown[]
>[number];
