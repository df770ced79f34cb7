/**
 * How a chat model writes a function call, as Qwen2.5 / Hermes templates teach it and the
 * default template renders earlier calls: `<tool_call>\n{"name": "NAME", "arguments": ARGS}\n</tool_call>`,
 * the envelope spaced as Python's `json.dumps` writes it, calls separated by `\n`. The worker's
 * grammar generates exactly this; the gateway reads calls back out of it.
 */
export const TOOL_CALL = {
  /** What opens a call (the trigger of an `auto` grammar). */
  open: '<tool_call>',
  /** Everything before a call's function name. */
  beforeName: '<tool_call>\n{"name": "',
  /** Between the function name and its arguments. */
  beforeArguments: '", "arguments": ',
  /** After the arguments. */
  end: '}\n</tool_call>',
  /** Between two calls. */
  separator: '\n',
} as const;

/** What the model writes before a call's arguments (function names need no JSON escaping). */
export function toolCallPrefix(name: string): string {
  return `${TOOL_CALL.beforeName}${name}${TOOL_CALL.beforeArguments}`;
}
