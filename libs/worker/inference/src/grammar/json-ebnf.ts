import { GrammarError } from './grammar-error';

// Code points a JSON string may only carry escaped: controls, the quote and the backslash.
const MUST_ESCAPE: readonly (readonly [number, number])[] = [
  [0x00, 0x1f],
  [0x22, 0x22],
  [0x5c, 0x5c],
];
// Classes XGrammar prints where a quote, backslash or control is right: the character after a
// backslash in an escape, and the whitespace its string rule looks ahead over.
const KEPT_CLASSES = new Set(['[\\"\\\\/bfnrt]', '[ \\n\\t]']);
const NAMED_ESCAPES: Record<string, number> = {
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  f: 0x0c,
  v: 0x0b,
  a: 0x07,
  b: 0x08,
  e: 0x1b,
  '0': 0x00,
};

/**
 * Makes XGrammar's JSON-schema EBNF (as `Grammar.toString()` prints it) emit only valid compact
 * JSON, fixing what XGrammar 0.1.27 gets wrong:
 * - its generic array and object rules separate items with `", "` whatever separators were asked
 *   for: they get `","`;
 * - string rules for `minLength`/`maxLength`, `pattern` and some formats use character classes
 *   that admit raw control characters, quotes and backslashes (`[^"\\\r\n]`, `.` as
 *   `[\0-\U0010ffff]`), which end the string early or make invalid JSON: every class loses those
 *   code points, except the escape and whitespace classes above.
 *
 * Throws {@link GrammarError} when a class or a literal could then match nothing valid (a pattern
 * that requires a raw control character).
 */
export function sanitizeJsonEbnf(ebnf: string): string {
  let out = '';
  let i = 0;
  while (i < ebnf.length) {
    const c = ebnf[i];
    if (c === '"') {
      const end = scanDelimited(ebnf, i, '"');
      const literal = ebnf.slice(i, end);
      if (literal === '", "') out += '","';
      else {
        if ([...decodeBody(literal.slice(1, -1))].some((cp) => cp < 0x20))
          throw new GrammarError(
            'the schema requires a raw control character inside a JSON string',
          );
        out += literal;
      }
      i = end;
    } else if (c === '[') {
      const end = scanDelimited(ebnf, i, ']');
      out += sanitizeClass(ebnf.slice(i, end));
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index just past the `close` that ends the token opening at `start`, skipping escapes. */
function scanDelimited(text: string, start: number, close: string): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === close) return i + 1;
  }
  throw new Error(`unterminated token in EBNF at offset ${start}`);
}

/** The code points of a literal's or class's body, escapes decoded. */
function* decodeBody(body: string): Generator<number> {
  for (const { cp } of readChars(body)) yield cp;
}

function* readChars(body: string): Generator<{ cp: number; next: number }> {
  let i = 0;
  while (i < body.length) {
    if (body[i] !== '\\') {
      const cp = body.codePointAt(i) ?? 0;
      i += cp > 0xffff ? 2 : 1;
      yield { cp, next: i };
      continue;
    }
    const e = body[i + 1];
    const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hex) {
      yield {
        cp: parseInt(body.slice(i + 2, i + 2 + hex), 16),
        next: i + 2 + hex,
      };
      i += 2 + hex;
    } else {
      yield { cp: NAMED_ESCAPES[e] ?? e.codePointAt(0) ?? 0, next: i + 2 };
      i += 2;
    }
  }
}

function sanitizeClass(token: string): string {
  if (KEPT_CLASSES.has(token)) return token;
  const negated = token[1] === '^';
  const body = token.slice(negated ? 2 : 1, -1);
  const ranges: [number, number][] = [];
  const chars = [...readChars(body)];
  for (let k = 0; k < chars.length; k++) {
    const lo = chars[k].cp;
    // `a-b` is a range; a `-` first or last is itself.
    if (body[chars[k].next] === '-' && k + 2 < chars.length) {
      ranges.push([lo, chars[k + 2].cp]);
      k += 2;
    } else ranges.push([lo, lo]);
  }
  if (negated) {
    if (MUST_ESCAPE.every(([lo, hi]) => covered(ranges, lo, hi))) return token;
    return `[^${printRanges([...ranges, ...MUST_ESCAPE])}]`;
  }
  const kept = MUST_ESCAPE.reduce(subtract, ranges);
  if (kept.length === ranges.length && kept.every((r, k) => r === ranges[k]))
    return token;
  if (kept.length === 0)
    throw new GrammarError(
      'the schema requires a quote, backslash or control character unescaped inside a JSON string',
    );
  return `[${printRanges(kept)}]`;
}

function covered(ranges: [number, number][], lo: number, hi: number): boolean {
  for (let cp = lo; cp <= hi; cp++)
    if (!ranges.some(([a, b]) => a <= cp && cp <= b)) return false;
  return true;
}

/** `ranges` without `[lo, hi]`; ranges it does not touch are returned as they were. */
function subtract(
  ranges: [number, number][],
  [lo, hi]: readonly [number, number],
): [number, number][] {
  return ranges.flatMap((r): [number, number][] => {
    const [a, b] = r;
    if (b < lo || a > hi) return [r];
    const rest: [number, number][] = [];
    if (a < lo) rest.push([a, lo - 1]);
    if (b > hi) rest.push([hi + 1, b]);
    return rest;
  });
}

function printRanges(ranges: readonly (readonly [number, number])[]): string {
  return ranges
    .map(([a, b]) =>
      a === b ? printChar(a) : `${printChar(a)}-${printChar(b)}`,
    )
    .join('');
}

function printChar(cp: number): string {
  if (/[A-Za-z0-9 !#$%&'()*+,./:;<=>?@_`{|}~]/.test(String.fromCodePoint(cp)))
    return String.fromCodePoint(cp);
  if (cp <= 0xff) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}
