import type { StructuralTag, TagFormat } from '@mlc-ai/web-xgrammar';

/** Text that opens each Hermes/Qwen2.5 tool call. */
export const TOOL_CALL_OPEN = '<tool_call>';
/** Text that closes each tool call. */
export const TOOL_CALL_CLOSE = '</tool_call>';

/**
 * What the model writes before a call's arguments, as Python's `json.dumps` writes the envelope
 * (a space after `:` and `,`): `<tool_call>\n{"name": "NAME", "arguments": `.
 */
export function toolCallPrefix(name: string): string {
  return `${TOOL_CALL_OPEN}\n{"name": ${JSON.stringify(name)}, "arguments": `;
}

/** What the model writes after a call's arguments. */
export const TOOL_CALL_SUFFIX = `}\n${TOOL_CALL_CLOSE}`;

/**
 * The XGrammar structural tag for tool calls, each tool's arguments given as compact-JSON EBNF.
 * `required`: calls only, separated by `\n`, at least one. `auto`: free text; a call starts at the
 * `<tool_call>` trigger. Without `parallel`, nothing may follow the first call.
 */
export function toolCallStructuralTag(
  mode: 'auto' | 'required',
  parallel: boolean,
  tools: readonly { name: string; argumentsEbnf: string }[],
): StructuralTag {
  const tags: TagFormat[] = tools.map(({ name, argumentsEbnf }) => ({
    type: 'tag',
    begin: toolCallPrefix(name),
    content: { type: 'grammar', grammar: argumentsEbnf },
    end: TOOL_CALL_SUFFIX,
  }));
  const stop_after_first = !parallel;
  return {
    type: 'structural_tag',
    format:
      mode === 'required'
        ? {
            type: 'tags_with_separator',
            tags,
            separator: '\n',
            at_least_one: true,
            stop_after_first,
          }
        : {
            type: 'triggered_tags',
            triggers: [TOOL_CALL_OPEN],
            tags,
            stop_after_first,
          },
  };
}
