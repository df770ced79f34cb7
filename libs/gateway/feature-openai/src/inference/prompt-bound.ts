import type { PromptPayload } from '@marquee/contracts/queue';

/** Tokens a chat template may add per message (role markers, separators) and per conversation. */
const CHAT_TOKENS_PER_MESSAGE = 8;
const CHAT_TOKENS_PER_CONVERSATION = 8;
/** Special tokens a tokenizer may add to plain text (BOS/EOS). */
const TEXT_SPECIAL_TOKENS = 2;
/** The instructions a template writes around the functions it lists (Qwen2.5's: ~400 bytes). */
const TOOLS_PREAMBLE_TOKENS = 1024;
/** The markup a template writes around one earlier call (`<tool_call>`, name and arguments keys). */
const CHAT_TOKENS_PER_CALL = 64;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
// Templates write JSON with `tojson`, which spaces separators: at most twice the compact bytes.
const jsonBytes = (value: unknown) => 2 * bytes(JSON.stringify(value));

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
        (prompt.tools?.length
          ? TOOLS_PREAMBLE_TOKENS + jsonBytes(prompt.tools)
          : 0) +
        prompt.messages.reduce(
          (sum, m) =>
            sum +
            bytes(m.role) +
            bytes(m.content) +
            CHAT_TOKENS_PER_MESSAGE +
            bytes(m.toolCallId ?? '') +
            (m.toolCalls ?? []).reduce(
              (calls, c) =>
                calls +
                CHAT_TOKENS_PER_CALL +
                bytes(c.id) +
                bytes(c.name) +
                2 * bytes(c.arguments),
              0,
            ),
          0,
        )
      );
  }
}
