import { Template } from '@huggingface/jinja';
import type { ChatMessage } from './prompt';

/**
 * Used when `tokenizer_config.json` has no `chat_template`: ChatML, as Qwen and many others use
 * (`<|im_start|>{role}\n{content}<|im_end|>\n` per message, then `<|im_start|>assistant\n`).
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

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

  /** Renders the conversation followed by the assistant's turn opener. */
  render(messages: readonly ChatMessage[]): string {
    return this.template.render({
      messages: messages.map(({ role, content }) => ({ role, content })),
      add_generation_prompt: true,
      bos_token: this.tokens.bosToken ?? '',
      eos_token: this.tokens.eosToken ?? '',
    });
  }
}
