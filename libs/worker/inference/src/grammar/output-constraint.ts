import type { JsonSchema } from './schema-preflight';

/** A tool the model may call: its name and the JSON schema of its arguments. */
export interface ToolSpec {
  name: string;
  parameters: Record<string, unknown>;
}

/**
 * What a request constrains its output to. JSON is compact (no whitespace, `,` and `:`);
 * objects have only the properties the schema declares.
 * - `json_object`: any JSON object (OpenAI `response_format: {type: "json_object"}`).
 * - `json_schema`: JSON valid against `schema`.
 * - `tool_calls`: Hermes/Qwen2.5 calls, each exactly
 *   `<tool_call>\n{"name": "NAME", "arguments": ARGS}\n</tool_call>` with compact ARGS valid
 *   against that tool's `parameters`, several joined by `\n`. `required`: only calls, at least
 *   one; `auto`: free text, in which a call starts at `<tool_call>`. `parallel: false` stops
 *   after the first call. A named `tool_choice` is `required` with that one tool.
 */
export type OutputConstraint =
  | { kind: 'json_object' }
  | { kind: 'json_schema'; schema: JsonSchema }
  | {
      kind: 'tool_calls';
      mode: 'auto' | 'required';
      tools: ToolSpec[];
      parallel: boolean;
    };

/**
 * A stable key for a constraint: JSON with object keys sorted, so equal constraints match, except
 * the names in a schema's `properties`, whose order is the order the output writes them in.
 */
export function constraintKey(constraint: OutputConstraint): string {
  return canonicalJson(constraint, false);
}

function canonicalJson(value: unknown, inOrder: boolean): string {
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v, false)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    return `{${(inOrder ? keys : keys.sort())
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map(
        (k) =>
          `${JSON.stringify(k)}:${canonicalJson(
            (value as Record<string, unknown>)[k],
            !inOrder && k === 'properties',
          )}`,
      )
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
