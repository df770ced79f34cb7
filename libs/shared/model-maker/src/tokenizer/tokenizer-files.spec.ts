import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { buildTokenizerFiles, SPECIAL_TOKENS } from './tokenizer-files';

function load(vocab: number) {
  const files = buildTokenizerFiles(vocab, 256);
  // Through JSON, as the engine will read the files.
  const tokenizer = new Tokenizer(
    JSON.parse(JSON.stringify(files.tokenizer)),
    JSON.parse(JSON.stringify(files.tokenizerConfig)),
  );
  return { files, tokenizer };
}

describe('buildTokenizerFiles', () => {
  it('round-trips English and arbitrary unicode through @huggingface/tokenizers', () => {
    const { tokenizer } = load(512);
    for (const text of [
      'The film opens on a quiet harbour town.',
      'Ünïcödé 🎬 — ñ 中文 \t\n  spaces',
      ' leading space',
    ]) {
      const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
      expect(tokenizer.decode(ids)).toBe(text);
    }
  });

  it('uses learned merges, so English text takes fewer tokens than bytes', () => {
    const { tokenizer } = load(512);
    const text =
      'The story is gentle and funny, and the final scene is moving.';
    expect(tokenizer.encode(text).ids.length).toBeLessThan(text.length / 2);
  });

  it.each([259, 300, 512, 50257])(
    'has exactly %i contiguous ids with <|endoftext|> last',
    (vocab) => {
      const { tokenizer } = load(vocab);
      const ids = [...tokenizer.get_vocab(true).values()].sort((a, b) => a - b);
      expect(ids).toEqual(Array.from({ length: vocab }, (_, i) => i));
      expect(tokenizer.token_to_id(SPECIAL_TOKENS.endOfText)).toBe(vocab - 1);
      expect(tokenizer.token_to_id(SPECIAL_TOKENS.imEnd)).toBe(vocab - 2);
      expect(tokenizer.token_to_id(SPECIAL_TOKENS.imStart)).toBe(vocab - 3);
    },
  );

  it('encodes special tokens as single ids and can skip them when decoding', () => {
    const { tokenizer } = load(512);
    const ids = tokenizer.encode('<|im_start|>user\nHi<|im_end|>').ids;
    expect(ids[0]).toBe(509);
    expect(ids).toContain(510);
    expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe(
      'user\nHi',
    );
  });

  it('renders chats as ChatML with the generation prompt', () => {
    const { files } = load(300);
    const template = new Template(
      files.tokenizerConfig.chat_template as string,
    );
    const rendered = template.render({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Name a film.' },
      ],
      add_generation_prompt: true,
    });
    expect(rendered).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nName a film.<|im_end|>\n<|im_start|>assistant\n',
    );
  });
});
