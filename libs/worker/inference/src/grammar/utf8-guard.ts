// Where a UTF-8 lead byte restricts the byte after it (RFC 3629): no overlong forms (E0, F0),
// no surrogates (ED), nothing past U+10FFFF (F4). Other leads take any continuation byte.
const SECOND_BYTE: ReadonlyMap<number, readonly [number, number]> = new Map([
  [0xe0, [0xa0, 0xbf]],
  [0xed, [0x80, 0x9f]],
  [0xf0, [0x90, 0xbf]],
  [0xf4, [0x80, 0x8f]],
]);

/**
 * Where the output stands inside a UTF-8 character: `need` continuation bytes still due, the
 * next one within `[lo, hi]`. `need` 0 is a character boundary.
 */
export interface Utf8State {
  need: number;
  lo: number;
  hi: number;
}

/** A character boundary: where every sequence starts. */
export const UTF8_BOUNDARY: Utf8State = { need: 0, lo: 0x80, hi: 0xbf };

/**
 * Keeps byte-level output valid UTF-8 where XGrammar does not: its matcher lets through overlong
 * forms, surrogates and code points past U+10FFFF inside JSON strings, and in free text (tool
 * calls in `auto` mode) any byte at all. Decoders turn those into U+FFFD, several per sequence,
 * which can break `maxLength`. {@link forbidden} lists the tokens that are invalid wherever they
 * go; {@link restrict} forbids the ones that cannot follow the current state.
 */
export class Utf8Guard {
  /** Tokens whose bytes are invalid UTF-8 whatever precedes them. */
  readonly forbidden: Int32Array;
  // Per token: its first byte (or 0 when empty) and how many continuation bytes it starts with.
  private readonly first: Uint8Array;
  private readonly leading: Uint8Array;
  // Tokens that start with a continuation byte: the only ones allowed mid-character.
  private readonly continuing: Int32Array;

  constructor(private readonly tokenBytes: readonly Uint8Array[]) {
    const n = tokenBytes.length;
    this.first = new Uint8Array(n);
    this.leading = new Uint8Array(n);
    const forbidden: number[] = [];
    const continuing: number[] = [];
    tokenBytes.forEach((bytes, id) => {
      let c = 0;
      while (c < bytes.length && isContinuation(bytes[c])) c++;
      this.first[id] = bytes[0] ?? 0;
      this.leading[id] = c;
      if (c > 3 || !walk(bytes, c, UTF8_BOUNDARY)) forbidden.push(id);
      if (c > 0) continuing.push(id);
    });
    this.forbidden = Int32Array.from(forbidden);
    this.continuing = Int32Array.from(continuing);
  }

  /** The state after `token` (which {@link allows} in `state`). */
  after(state: Utf8State, token: number): Utf8State {
    const bytes = this.tokenBytes[token] ?? new Uint8Array(0);
    let need = state.need;
    let i = 0;
    for (; i < bytes.length && need > 0; i++, need--);
    if (i === bytes.length && i > 0 && need < state.need)
      return need === 0 ? UTF8_BOUNDARY : { need, lo: 0x80, hi: 0xbf };
    if (bytes.length === 0) return state;
    return walk(bytes, i, UTF8_BOUNDARY) ?? UTF8_BOUNDARY;
  }

  /** Whether `token` may follow `state`. */
  allows(state: Utf8State, token: number): boolean {
    const c = this.leading[token] ?? 0;
    if (state.need === 0) return c === 0;
    const length = this.tokenBytes[token]?.length ?? 0;
    const b = this.first[token];
    // Exactly the due continuation bytes, or fewer when that is the whole token.
    return (
      (c === state.need || (c < state.need && c === length && c > 0)) &&
      b >= state.lo &&
      b <= state.hi
    );
  }

  /** Sets to -Infinity the logits of tokens that may not follow `state`. */
  restrict(state: Utf8State, logits: Float32Array): void {
    const n = Math.min(logits.length, this.first.length);
    if (state.need === 0) {
      for (const id of this.continuing) if (id < n) logits[id] = -Infinity;
      return;
    }
    for (let id = 0; id < n; id++)
      if (logits[id] !== -Infinity && !this.allows(state, id))
        logits[id] = -Infinity;
  }
}

function isContinuation(b: number): boolean {
  return b >= 0x80 && b <= 0xbf;
}

/**
 * Runs bytes `from` onwards, starting at a character boundary; the state at the end, or
 * undefined if they are not valid UTF-8 (a character cut off by the end is fine).
 */
function walk(
  bytes: Uint8Array,
  from: number,
  start: Utf8State,
): Utf8State | undefined {
  let state = start;
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i];
    if (state.need > 0) {
      if (b < state.lo || b > state.hi) return undefined;
      state =
        state.need === 1
          ? UTF8_BOUNDARY
          : { need: state.need - 1, lo: 0x80, hi: 0xbf };
    } else if (b < 0x80) continue;
    else if (b >= 0xc2 && b <= 0xdf) state = { need: 1, lo: 0x80, hi: 0xbf };
    else if (b >= 0xe0 && b <= 0xef) state = lead(b, 2);
    else if (b >= 0xf0 && b <= 0xf4) state = lead(b, 3);
    else return undefined; // a stray continuation byte, C0, C1 or F5..FF
  }
  return state;
}

function lead(b: number, need: number): Utf8State {
  const [lo, hi] = SECOND_BYTE.get(b) ?? [0x80, 0xbf];
  return { need, lo, hi };
}
