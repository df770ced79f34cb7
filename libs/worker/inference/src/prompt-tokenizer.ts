import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { MODEL_FILES } from '@marquee/shared/model-format';
import { ChatTemplate } from './chat-template';
import { InferenceError } from './inference-error';
import type { PromptInput } from './types';

type TokenConfigValue = string | { content?: string } | null | undefined;

/** The subset of `tokenizer_config.json` the engine reads. */
interface TokenizerConfig {
  chat_template?: string | { name: string; template: string }[];
  bos_token?: TokenConfigValue;
  eos_token?: TokenConfigValue;
  [key: string]: unknown;
}

/**
 * A model's tokenizer and chat template: prompts to ids (special tokens in a rendered template
 * become their ids) and ids back to text (special tokens skipped, no clean-up of spaces, so
 * incremental decoding is stable).
 */
export class PromptTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly template: ChatTemplate,
    /** Id of the tokenizer's `eos_token`, when it has one. */
    readonly eosTokenId: number | undefined,
  ) {}

  /** Reads `tokenizer.json` and `tokenizer_config.json` from a model folder. */
  static async load(modelDir: string): Promise<PromptTokenizer> {
    const read = async (file: string) =>
      JSON.parse(await readFile(join(modelDir, file), 'utf8')) as unknown;
    const json = await read(MODEL_FILES.tokenizer);
    const config = (await read(MODEL_FILES.tokenizerConfig)) as TokenizerConfig;
    const tokenizer = new Tokenizer(json as object, config);
    const text = (value: TokenConfigValue) =>
      typeof value === 'string' ? value : (value?.content ?? undefined);
    const bosToken = text(config.bos_token);
    const eosToken = text(config.eos_token);
    const source = Array.isArray(config.chat_template)
      ? config.chat_template.find((t) => t.name === 'default')?.template
      : config.chat_template;
    return new PromptTokenizer(
      tokenizer,
      new ChatTemplate(source, { bosToken, eosToken }),
      eosToken === undefined ? undefined : tokenizer.token_to_id(eosToken),
    );
  }

  /** Tokenizes a prompt; throws `invalid_prompt` for empty text (`prompt`) or no messages (`messages`). */
  encode(prompt: PromptInput): number[] {
    if (prompt.kind === 'chat') {
      if (prompt.messages.length === 0)
        throw new InferenceError(
          'invalid_prompt',
          'messages must not be empty',
          'messages',
        );
      // The template writes its own BOS and special tokens.
      return this.tokenizer.encode(this.template.render(prompt.messages), {
        add_special_tokens: false,
      }).ids;
    }
    if (prompt.text.length === 0)
      throw new InferenceError(
        'invalid_prompt',
        'prompt must not be empty',
        'prompt',
      );
    return this.tokenizer.encode(prompt.text).ids;
  }

  /** Renders chat messages with the model's template (for logging and tests). */
  renderChat(prompt: Extract<PromptInput, { kind: 'chat' }>): string {
    return this.template.render(prompt.messages);
  }

  /** Ids to text, skipping special tokens. */
  decode(ids: number[]): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode(ids, {
      skip_special_tokens: true,
      clean_up_tokenization_spaces: false,
    });
  }

  /** Id of a token string, if it is in the vocabulary. */
  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }
}
