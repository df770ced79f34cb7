import { GrammarError } from './grammar-error';
import { sanitizeJsonEbnf } from './json-ebnf';

describe('sanitizeJsonEbnf', () => {
  it('makes the generic array and object rules separate items with a bare comma', () => {
    expect(
      sanitizeJsonEbnf(
        'basic_array_1 ::= ("" | (", " basic_any basic_array_1))\nroot ::= (("\\", \\"" ", "))',
      ),
    ).toBe(
      'basic_array_1 ::= ("" | ("," basic_any basic_array_1))\nroot ::= (("\\", \\"" ","))',
    );
  });

  it('takes controls, quotes and backslashes out of the string classes XGrammar writes for lengths and patterns', () => {
    expect(sanitizeJsonEbnf('s ::= [^\\"\\\\\\r\\n]')).toBe(
      's ::= [^\\x22\\x5c\\x0d\\x0a\\x00-\\x1f\\x22\\x5c]',
    );
    // `.` in a pattern, and json-pointer's ranges that span the quote and the backslash.
    expect(sanitizeJsonEbnf('s ::= [\\0-\\U0010ffff] [0-}]')).toBe(
      's ::= [ -!#-\\x5b\\x5d-\\U0010ffff] [0-\\x5b\\x5d-}]',
    );
  });

  it('leaves classes that are already safe, the escape class and the whitespace lookahead alone', () => {
    const ebnf = [
      'basic_escape ::= (([\\"\\\\/bfnrt]) | ("u" [A-Fa-f0-9]))',
      'basic_string_sub ::= (("\\"") | ([^\\0-\\x1f\\"\\\\\\r\\n] basic_string_sub)) (=([ \\n\\t]* [,}\\]:]))',
      "email ::= [a-zA-Z0-9_!#$%&\\'*+/=\\?^`{|}~\\-]+",
    ].join('\n');
    expect(sanitizeJsonEbnf(ebnf)).toBe(ebnf);
  });

  it('refuses what would need a raw control character or only forbidden characters', () => {
    expect(() => sanitizeJsonEbnf('s ::= "\\"" "\\t" "\\""')).toThrow(
      GrammarError,
    );
    expect(() => sanitizeJsonEbnf('s ::= [\\"\\\\]')).toThrow(
      /quote, backslash or control character/,
    );
  });
});
