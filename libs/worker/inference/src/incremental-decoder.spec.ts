import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCausalLm } from '@marquee/shared/model-maker';
import { IncrementalDecoder } from './incremental-decoder';
import { PromptTokenizer } from '@marquee/shared/tokenization';

describe('IncrementalDecoder', () => {
  let root: string;
  let tokenizer: PromptTokenizer;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-decoder-'));
    const made = makeCausalLm({
      out: join(root, 'model'),
      layers: 1,
      hidden: 16,
      heads: 2,
      vocab: 300,
      context: 32,
      seed: 1,
    });
    tokenizer = await PromptTokenizer.load(made.dir);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('never emits half of a multi-byte character split across byte-level tokens', () => {
    const text = 'Café 世界 🎬 fin';
    const ids = tokenizer.encode({ kind: 'text', text });
    expect(ids.length).toBeGreaterThan([...text].length); // multi-byte characters take several tokens
    const decoder = new IncrementalDecoder((t) => tokenizer.decode(t));
    const pieces = ids.map((id) => decoder.push(id));
    pieces.push(decoder.flush());
    expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
    expect(pieces.filter((p) => p === '').length).toBeGreaterThan(0);
    expect(pieces.join('')).toBe(text);
  });

  it('continues a prompt without repeating its context', () => {
    const prompt = tokenizer.encode({ kind: 'text', text: 'The director' });
    const completion = tokenizer.encode({ kind: 'text', text: ' said cut' });
    const decoder = new IncrementalDecoder((t) => tokenizer.decode(t), prompt);
    expect(
      completion.map((id) => decoder.push(id)).join('') + decoder.flush(),
    ).toBe(' said cut');
  });

  it('releases an incomplete character as U+FFFD on flush', () => {
    const ids = tokenizer.encode({ kind: 'text', text: '世' });
    const decoder = new IncrementalDecoder((t) => tokenizer.decode(t));
    expect(decoder.push(ids[0])).toBe('');
    expect(decoder.flush()).toContain('\uFFFD');
  });
});
