import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { MODEL_FILES } from '@marquee/shared/model-format';
import { ChatTemplate } from './chat-template';
import { type PromptInput, PromptError } from './prompt';
import { BYTE_OF } from './byte-level';

type TokenConfigValue = string | { content?: string } | null | undefined;

/** The subset of `tokenizer_config.json` Marquee reads. */
interface TokenizerConfig {
  chat_template?: string | { name: string; template: string }[];
  bos_token?: TokenConfigValue;
  eos_token?: TokenConfigValue;
  [key: string]: unknown;
}

/** The parts of `tokenizer.json` read for logprob bytes. */
interface TokenizerJson {
  decoder?: { type?: string } | null;
  model?: { vocab?: Record<string, number> | unknown[] };
  added_tokens?: { id: number; content: string }[];
}

/**
 * A model's tokenizer and chat template: prompts to ids (special tokens in a rendered template
 * become their ids) and ids back to text (special tokens skipped, no clean-up of spaces, so
 * incremental decoding is stable).
 */
export class PromptTokenizer {
  private readonly bytesCache = new Map<number, Uint8Array>();
  private readonly tokenStrings: Map<number, string>;
  private readonly byteLevel: boolean;

  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly template: ChatTemplate,
    /** Id of the tokenizer's `eos_token`, when it has one. */
    readonly eosTokenId: number | undefined,
    json: TokenizerJson,
  ) {
    this.byteLevel = json.decoder?.type === 'ByteLevel';
    this.tokenStrings = new Map();
    const vocab = json.model?.vocab;
    if (vocab && !Array.isArray(vocab))
      for (const [token, id] of Object.entries(vocab))
        this.tokenStrings.set(id, token);
    for (const added of json.added_tokens ?? [])
      this.tokenStrings.set(added.id, added.content);
  }

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
      json as TokenizerJson,
    );
  }

  /** Tokenizes a prompt; throws `invalid_prompt` for empty text (`prompt`) or no messages (`messages`). */
  encode(prompt: PromptInput): number[] {
    if (prompt.kind === 'chat') {
      if (prompt.messages.length === 0)
        throw new PromptError('messages must not be empty', 'messages');
      // The template writes its own BOS and special tokens.
      return this.tokenizer.encode(this.renderChat(prompt), {
        add_special_tokens: false,
      }).ids;
    }
    if (prompt.text.length === 0)
      throw new PromptError('prompt must not be empty', 'prompt');
    return this.tokenizer.encode(prompt.text).ids;
  }

  /** Renders chat messages with the model's template (for logging and tests). */
  renderChat(prompt: Extract<PromptInput, { kind: 'chat' }>): string {
    return this.template.render(prompt.messages, prompt.tools);
  }

  /** Ids to text, skipping special tokens. */
  decode(ids: number[]): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode(ids, {
      skip_special_tokens: true,
      clean_up_tokenization_spaces: false,
    });
  }

  /**
   * A token's raw bytes, as OpenAI's logprobs report them: byte-level BPE tokens map back through
   * GPT-2's byte-to-character table (so half a UTF-8 character stays half); other tokenizers use
   * the UTF-8 of the token decoded alone.
   */
  tokenBytes(id: number): Uint8Array {
    let bytes = this.bytesCache.get(id);
    if (bytes) return bytes;
    const raw = this.tokenStrings.get(id);
    if (
      this.byteLevel &&
      raw !== undefined &&
      [...raw].every((c) => BYTE_OF.has(c))
    )
      bytes = Uint8Array.from([...raw], (c) => BYTE_OF.get(c) ?? 0);
    else
      bytes = new TextEncoder().encode(
        raw !== undefined && !this.byteLevel ? this.decode([id]) : (raw ?? ''),
      );
    this.bytesCache.set(id, bytes);
    return bytes;
  }

  /** Id of a token string, if it is in the vocabulary. */
  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }
}
