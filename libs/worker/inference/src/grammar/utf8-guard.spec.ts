import { UTF8_BOUNDARY, Utf8Guard, type Utf8State } from './utf8-guard';

describe('Utf8Guard', () => {
  // Tokens by id: ASCII, a 2-byte lead, continuation bytes, E0 (restricts the next byte),
  // an overlong pair, a lone C0, and a complete é.
  const tokens = [
    [0x41],
    [0xc3],
    [0xa9],
    [0x80, 0x41],
    [0xe0],
    [0xe0, 0x80],
    [0xc0],
    [0xc3, 0xa9],
    [0xa0, 0x80],
  ].map((b) => Uint8Array.from(b));
  const guard = new Utf8Guard(tokens);
  const allowed = (state: Utf8State) => {
    const logits = new Float32Array(tokens.length);
    guard.restrict(state, logits);
    return [...logits.keys()].filter((id) => logits[id] === 0);
  };

  it('forbids tokens that are invalid wherever they go', () => {
    expect([...guard.forbidden]).toEqual([5, 6]);
  });

  it('allows no continuation byte at a character boundary', () => {
    expect(allowed(UTF8_BOUNDARY)).toEqual([0, 1, 4, 5, 6, 7]);
  });

  it('after a lead, allows only the continuation bytes it needs', () => {
    const afterC3 = guard.after(UTF8_BOUNDARY, 1);
    expect(afterC3.need).toBe(1);
    // é alone, or the continuation byte then ASCII.
    expect(allowed(afterC3)).toEqual([2, 3]);
    expect(guard.after(afterC3, 2)).toEqual(UTF8_BOUNDARY);
  });

  it('keeps E0 from starting an overlong form', () => {
    const afterE0 = guard.after(UTF8_BOUNDARY, 4);
    expect(afterE0).toEqual({ need: 2, lo: 0xa0, hi: 0xbf });
    expect(allowed(afterE0)).toEqual([2, 8]);
    expect(guard.allows(afterE0, 3)).toBe(false);
    expect(guard.after(afterE0, 8)).toEqual(UTF8_BOUNDARY);
    expect(guard.after(afterE0, 2)).toEqual({ need: 1, lo: 0x80, hi: 0xbf });
  });
});
