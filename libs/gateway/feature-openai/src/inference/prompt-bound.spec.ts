import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PromptPayload } from '@marquee/contracts/queue';
import { makeEcho } from '@marquee/shared/model-maker';
import { PromptTokenizer } from '@marquee/shared/tokenization';
import { promptTokenBound } from './prompt-bound';

describe('promptTokenBound', () => {
  let dir: string;
  let tokenizer: PromptTokenizer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prompt-bound-'));
    makeEcho({ out: join(dir, 'm') });
    tokenizer = await PromptTokenizer.load(join(dir, 'm'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const schema = {
    type: 'object',
    properties: Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [
        `field_${i}`,
        { type: 'string', description: `The ${i}th field, in detail` },
      ]),
    ),
  };

  it.each<[string, PromptPayload]>([
    ['plain text', { kind: 'text', text: 'A heist in Lisbon' }],
    [
      'a chat',
      {
        kind: 'chat',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Pitch a film' },
        ],
      },
    ],
    [
      // Tiny messages, large tools: what the template adds must count, or admission under-reserves.
      'a chat offering large tools, with calls and results in its history',
      {
        kind: 'chat',
        tools: [
          { name: 'lookup', description: 'Find a film', parameters: schema },
          { name: 'book', parameters: schema },
        ],
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [
              { id: 'call_1', name: 'lookup', arguments: '{"field_1":"a"}' },
            ],
          },
          { role: 'tool', content: 'ok', toolCallId: 'call_1' },
        ],
      },
    ],
  ])('is at least the token count of %s', (_, prompt) => {
    const tokens =
      prompt.kind === 'tokens'
        ? prompt.ids.length
        : tokenizer.encode(prompt).length;
    expect(promptTokenBound(prompt)).toBeGreaterThanOrEqual(tokens);
  });
});
