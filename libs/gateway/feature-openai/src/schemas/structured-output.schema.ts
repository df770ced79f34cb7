import type { ChatTool, OutputConstraint } from '@marquee/contracts/queue';
import { z } from 'zod';
import { nullish } from './sampling.schema';

/** Most functions one request may offer. */
export const MAX_TOOLS = 128;

/** OpenAI's rule for function and schema names. */
export const functionName = z
  .string({ error: 'expected a string' })
  .regex(
    /^[a-zA-Z0-9_-]{1,64}$/,
    'must be 1 to 64 letters, digits, underscores or dashes',
  );

/** A JSON Schema: an object (its validity is checked when the grammar is compiled). */
const jsonSchema = z.record(z.string(), z.unknown(), {
  error: 'expected a JSON Schema object',
});

const strict = nullish(z.boolean({ error: 'expected a boolean' }));

/** One entry of `tools`: only functions exist here. */
export const toolSchema = z.strictObject(
  {
    type: z.literal('function', {
      error: "only 'function' tools are supported",
    }),
    function: z.strictObject({
      name: functionName,
      description: z.string({ error: 'expected a string' }).optional(),
      parameters: jsonSchema.optional(),
      strict,
    }),
  },
  { error: 'expected a function tool' },
);

/** `tool_choice`: a mode, or the one function the model must call. */
export const toolChoiceSchema = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z.strictObject({
      type: z.literal('function'),
      function: z.strictObject({ name: functionName }),
    }),
  ],
  {
    error:
      'expected \'none\', \'auto\', \'required\' or {"type": "function", "function": {"name": ...}}',
  },
);

/** `response_format` of chat completions. */
export const responseFormatSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('text') }),
    z.strictObject({ type: z.literal('json_object') }),
    z.strictObject({
      type: z.literal('json_schema'),
      json_schema: z.strictObject({
        name: functionName,
        description: z.string({ error: 'expected a string' }).optional(),
        schema: jsonSchema.optional(),
        strict,
      }),
    }),
  ],
  { error: "expected a type of 'text', 'json_object' or 'json_schema'" },
);

type Tool = z.output<typeof toolSchema>;
type ToolChoice = z.output<typeof toolChoiceSchema>;
type ResponseFormat = z.output<typeof responseFormatSchema>;

/** A function without `parameters` takes an empty object, as OpenAI treats it. */
const NO_PARAMETERS = { type: 'object', properties: {} };

/** What the request's structured-output fields ask of the model. */
export interface StructuredOutput {
  /** Functions the chat template lists (none when `tool_choice` is `none`). */
  tools?: ChatTool[];
  /** The grammar the worker holds the output to; absent: free text. */
  constraint?: OutputConstraint;
  /** The output is parsed into `tool_calls`. */
  toolCalls: boolean;
}

/** Issues of a request's `tools`, `tool_choice` and `response_format` taken together. */
export function structuredOutputIssues(body: {
  tools?: Tool[];
  tool_choice?: ToolChoice;
  response_format?: ResponseFormat;
  stop?: string | string[];
  logprobs?: boolean;
}): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const tools = body.tools ?? [];
  const names = tools.map((t) => t.function.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined)
    issues.push({
      path: ['tools'],
      message: `function names must be unique; '${duplicate}' appears twice`,
    });
  tools.forEach((t, i) => {
    const type = t.function.parameters?.type;
    if (type !== undefined && type !== 'object')
      issues.push({
        path: ['tools', String(i), 'function', 'parameters'],
        message: "must describe an object (type 'object')",
      });
  });
  const choice = body.tool_choice;
  if (choice !== undefined && choice !== 'none' && tools.length === 0)
    issues.push({
      path: ['tool_choice'],
      message: 'is only allowed when tools are specified',
    });
  if (
    typeof choice === 'object' &&
    tools.length > 0 &&
    !names.includes(choice.function.name)
  )
    issues.push({
      path: ['tool_choice'],
      message: `names the function '${choice.function.name}', which is not in tools`,
    });
  const calling = tools.length > 0 && choice !== 'none';
  const json = body.response_format && body.response_format.type !== 'text';
  if (calling && json)
    issues.push({
      path: ['response_format'],
      message:
        "cannot be combined with tools here; set tool_choice to 'none' or drop response_format",
    });
  const stops = body.stop === undefined ? [] : [body.stop].flat();
  // A stop string would cut a call or a JSON answer short of its grammar's end.
  if ((calling || json) && stops.length > 0)
    issues.push({
      path: ['stop'],
      message: 'cannot be combined with tools or a JSON response_format',
    });
  // Logprobs would cover the call markup the response turns into tool_calls.
  if (calling && body.logprobs)
    issues.push({
      path: ['logprobs'],
      message: "cannot be combined with tools unless tool_choice is 'none'",
    });
  return issues;
}

/**
 * The template's tools and the grammar for a request's `tools`, `tool_choice`,
 * `parallel_tool_calls` and `response_format` (already checked by {@link structuredOutputIssues}).
 */
export function structuredOutput(body: {
  tools?: Tool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
}): StructuredOutput {
  const tools = body.tools ?? [];
  const choice = body.tool_choice ?? 'auto';
  if (tools.length > 0 && choice !== 'none') {
    const offered: ChatTool[] = tools.map(({ function: f }) => ({
      name: f.name,
      ...(f.description === undefined ? {} : { description: f.description }),
      parameters: f.parameters
        ? { type: 'object', ...f.parameters }
        : NO_PARAMETERS,
    }));
    const named = typeof choice === 'object' ? choice.function.name : null;
    const callable = offered
      .filter((t) => named === null || t.name === named)
      .map((t) => ({ name: t.name, parameters: t.parameters }));
    return {
      tools: offered,
      toolCalls: true,
      constraint: {
        kind: 'tool_calls',
        mode: choice === 'auto' ? 'auto' : 'required',
        tools: callable,
        parallel: named === null && (body.parallel_tool_calls ?? true),
      },
    };
  }
  const format = body.response_format;
  if (format?.type === 'json_object')
    return { toolCalls: false, constraint: { kind: 'json_object' } };
  if (format?.type === 'json_schema')
    return {
      toolCalls: false,
      constraint: {
        kind: 'json_schema',
        schema: format.json_schema.schema ?? {},
      },
    };
  return { toolCalls: false };
}
