import { Template } from '@huggingface/jinja';
import type { ChatMessage, ChatTool } from './prompt';

/**
 * Used when `tokenizer_config.json` has no `chat_template`, and the demo models' template: ChatML
 * (`<|im_start|>{role}\n{content}<|im_end|>\n` per message, then `<|im_start|>assistant\n`), with
 * tools and tool turns as Qwen2.5 renders them: the functions listed in the system turn inside
 * `<tools>`, each earlier call as `<tool_call>\n{"name": ..., "arguments": ...}\n</tool_call>`, and
 * tool results as a user turn of `<tool_response>` blocks. A conversation without tools renders
 * as plain ChatML.
 */
export const DEFAULT_CHAT_TEMPLATE = String.raw`{%- if tools %}
{{- '<|im_start|>system\n' }}
{%- if messages[0].role == 'system' %}{{- messages[0].content + '\n\n' }}{%- endif %}
{{- '# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>' }}
{%- for tool in tools %}{{- '\n' + (tool | tojson) }}{%- endfor %}
{{- '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
{%- if message.role == 'system' and tools and loop.first %}
{%- elif message.role == 'assistant' and message.tool_calls %}
{{- '<|im_start|>assistant' }}
{%- if message.content %}{{- '\n' + message.content }}{%- endif %}
{%- for tool_call in message.tool_calls %}
{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
{{- '\n<tool_call>\n{"name": "' + tool_call.name + '", "arguments": ' }}
{%- if tool_call.arguments is string %}{{- tool_call.arguments }}{%- else %}{{- tool_call.arguments | tojson }}{%- endif %}
{{- '}\n</tool_call>' }}
{%- endfor %}
{{- '<|im_end|>\n' }}
{%- elif message.role == 'tool' %}
{%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}{{- '<|im_start|>user' }}{%- endif %}
{{- '\n<tool_response>\n' + message.content + '\n</tool_response>' }}
{%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}{{- '<|im_end|>\n' }}{%- endif %}
{%- else %}
{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}`;

/** Special tokens a template may refer to. */
export interface ChatTemplateTokens {
  bosToken?: string;
  eosToken?: string;
}

/** A model's Jinja chat template, rendered as Hugging Face `apply_chat_template` does with a generation prompt. */
export class ChatTemplate {
  private readonly template: Template;

  /** @param source Jinja source; default {@link DEFAULT_CHAT_TEMPLATE}. */
  constructor(
    source: string | undefined,
    private readonly tokens: ChatTemplateTokens = {},
  ) {
    this.template = new Template(source ?? DEFAULT_CHAT_TEMPLATE);
  }

  /**
   * Renders the conversation followed by the assistant's turn opener. Messages and tools take
   * the shapes Hugging Face templates read (`tool_calls[].function`, `tool_call_id`, tools as
   * `{type: "function", function}`); call arguments stay the JSON text the client sent.
   */
  render(
    messages: readonly ChatMessage[],
    tools?: readonly ChatTool[],
  ): string {
    return this.template.render({
      messages: messages.map(({ role, content, toolCalls, toolCallId }) => ({
        role,
        content,
        ...(toolCalls?.length
          ? {
              tool_calls: toolCalls.map((call) => ({
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
        ...(toolCallId === undefined ? {} : { tool_call_id: toolCallId }),
      })),
      ...(tools?.length
        ? {
            tools: tools.map(({ name, description, parameters }) => ({
              type: 'function',
              function: {
                name,
                ...(description === undefined ? {} : { description }),
                parameters,
              },
            })),
          }
        : {}),
      add_generation_prompt: true,
      bos_token: this.tokens.bosToken ?? '',
      eos_token: this.tokens.eosToken ?? '',
    });
  }
}
