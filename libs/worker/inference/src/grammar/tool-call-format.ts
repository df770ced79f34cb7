import type { StructuralTag, TagFormat } from '@mlc-ai/web-xgrammar';
import { TOOL_CALL, toolCallPrefix } from '@marquee/shared/tokenization';

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
    end: TOOL_CALL.end,
  }));
  const stop_after_first = !parallel;
  return {
    type: 'structural_tag',
    format:
      mode === 'required'
        ? {
            type: 'tags_with_separator',
            tags,
            separator: TOOL_CALL.separator,
            at_least_one: true,
            stop_after_first,
          }
        : {
            type: 'triggered_tags',
            triggers: [TOOL_CALL.open],
            tags,
            stop_after_first,
          },
  };
}
