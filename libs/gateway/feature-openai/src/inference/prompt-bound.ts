import type { PromptPayload } from '@marquee/contracts/queue';

/** Tokens a chat template may add per message (role markers, separators) and per conversation. */
const CHAT_TOKENS_PER_MESSAGE = 8;
const CHAT_TOKENS_PER_CONVERSATION = 8;
/** Special tokens a tokenizer may add to plain text (BOS/EOS). */
const TEXT_SPECIAL_TOKENS = 2;

/**
 * An upper bound of a prompt's token count without tokenizing it: byte-level BPE (the tokenizers
 * Marquee's models use) never yields more tokens than UTF-8 bytes. Admission reserves this;
 * settlement replaces it with the worker's exact count.
 */
export function promptTokenBound(prompt: PromptPayload): number {
  switch (prompt.kind) {
    case 'tokens':
      return prompt.ids.length;
    case 'text':
      return Buffer.byteLength(prompt.text, 'utf8') + TEXT_SPECIAL_TOKENS;
    case 'chat':
      return (
        CHAT_TOKENS_PER_CONVERSATION +
        prompt.messages.reduce(
          (sum, m) =>
            sum +
            Buffer.byteLength(m.role, 'utf8') +
            Buffer.byteLength(m.content, 'utf8') +
            CHAT_TOKENS_PER_MESSAGE,
          0,
        )
      );
  }
}
