import { findUnsafeText, isUnsafeText } from './text-guard';

describe('findUnsafeText', () => {
  it('finds NULs and lone surrogates, and names where they are', () => {
    expect(isUnsafeText('a\u0000b')).toBe(true);
    expect(isUnsafeText('\ud800')).toBe(true);
    expect(isUnsafeText('x\udc00')).toBe(true);
    expect(
      findUnsafeText({ messages: [{ content: 'ok' }, { content: '\ud83d' }] }),
    ).toEqual(['messages', 1, 'content']);
    expect(findUnsafeText({ logit_bias: { '\u0000': 1 } })).toEqual([
      'logit_bias',
    ]);
    expect(findUnsafeText('\u0000')).toEqual([]);
  });

  it('accepts paired surrogates, control-free text and non-strings', () => {
    expect(isUnsafeText('🎬 ü \t\n')).toBe(false);
    expect(
      findUnsafeText({ a: [1, true, null, { b: '🎬' }], c: 2.5 }),
    ).toBeNull();
  });

  it('walks a value nested far deeper than the call stack allows', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const path = findUnsafeText(deep);
    expect(path).toHaveLength(200_000);
  });
});
