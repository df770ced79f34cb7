import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTokenizerVocab } from './tokenizer-vocab';

describe('readTokenizerVocab', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mq-vocab-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (json: object) =>
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));

  it('reads a byte-level BPE vocabulary: GPT-2 characters to bytes, special added tokens apart', async () => {
    write({
      decoder: { type: 'ByteLevel' },
      model: { vocab: { a: 0, Ġb: 1, Ã: 3 } },
      added_tokens: [
        { id: 4, content: '<|im_start|>', special: true },
        { id: 5, content: '<tool_call>', special: false },
      ],
    });
    const vocab = await readTokenizerVocab(dir);
    expect(vocab.vocabType).toBe('byte_level');
    expect(vocab.encoded).toEqual([
      'a',
      'Ġb',
      '',
      'Ã',
      '<|im_start|>',
      '<tool_call>',
    ]);
    expect(vocab.specialIds).toEqual([4]);
    expect(vocab.bytes.map((b) => [...b])).toEqual([
      [0x61],
      [0x20, 0x62],
      [],
      [0xc3],
      [...Buffer.from('<|im_start|>')],
      [...Buffer.from('<tool_call>')],
    ]);
  });

  it('reads a Llama-style byte-fallback vocabulary that prepends a space', async () => {
    write({
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: { vocab: { '<0x0A>': 0, '▁hi': 1 } },
    });
    const vocab = await readTokenizerVocab(dir);
    expect(vocab).toMatchObject({
      vocabType: 'byte_fallback',
      prependSpace: true,
    });
    expect(vocab.bytes.map((b) => [...b])).toEqual([
      [0x0a],
      [0x20, 0x68, 0x69],
    ]);
  });

  it('refuses a tokenizer whose bytes it cannot tell', async () => {
    write({ decoder: { type: 'WordPiece' }, model: { vocab: { a: 0 } } });
    await expect(readTokenizerVocab(dir)).rejects.toThrow(
      /needs a ByteLevel or ByteFallback decoder, found "WordPiece"/,
    );
  });
});
