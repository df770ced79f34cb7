import type { z } from 'zod';
import type {
  responseFormatSchema,
  toolChoiceSchema,
  toolSchema,
} from '../schemas/structured-output.schema';

type ChatTool = z.output<typeof toolSchema>;
type ChatToolChoice = z.output<typeof toolChoiceSchema>;
type ChatResponseFormat = z.output<typeof responseFormatSchema>;

/** The Responses API's structured-output fields, as its request schema parses them. */
export interface ResponsesStructuredFields {
  tools?: {
    type: 'function';
    name: string;
    description?: string;
    parameters?: Record<string, unknown>;
    strict?: boolean;
  }[];
  tool_choice?:
    | 'none'
    | 'auto'
    | 'required'
    | { type: 'function'; name: string };
  parallel_tool_calls?: boolean;
  text?: {
    format?:
      | { type: 'text' }
      | { type: 'json_object' }
      | {
          type: 'json_schema';
          name: string;
          description?: string;
          schema?: Record<string, unknown>;
          strict?: boolean;
        };
  };
}

/**
 * The same request in chat completions' shapes, so chat's `structuredOutput` and
 * `structuredOutputIssues` decide the template's tools and the grammar for both APIs: function
 * tools nested under `function`, `text.format` as `response_format`.
 */
export function chatShapes(body: ResponsesStructuredFields): {
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ChatResponseFormat;
} {
  const choice = body.tool_choice;
  const format = body.text?.format;
  return {
    tools: body.tools?.map(({ name, description, parameters, strict }) => ({
      type: 'function' as const,
      function: { name, description, parameters, strict },
    })),
    tool_choice:
      typeof choice === 'object'
        ? { type: 'function', function: { name: choice.name } }
        : choice,
    parallel_tool_calls: body.parallel_tool_calls,
    response_format:
      format?.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: format.name,
              description: format.description,
              schema: format.schema,
              strict: format.strict,
            },
          }
        : format,
  };
}

/**
 * A chat request path (of a structured-output issue, or an error's `param` split on dots) in the
 * Responses API's terms: `tools.0.function.parameters` is `tools[0].parameters`,
 * `response_format.json_schema.schema` is `text.format.schema`. Indexes become numbers.
 */
export function responsesPath(path: readonly string[]): (string | number)[] {
  let parts = [...path];
  if (parts[0] === 'response_format')
    parts = [
      'text',
      'format',
      ...parts.slice(parts[1] === 'json_schema' ? 2 : 1),
    ];
  else if (parts[0] === 'tools' && parts[2] === 'function')
    parts = [parts[0], parts[1], ...parts.slice(3)];
  return parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}
