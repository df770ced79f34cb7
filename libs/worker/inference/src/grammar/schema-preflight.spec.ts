import { GrammarError } from './grammar-error';
import { MAX_SCHEMA_DEPTH, preflightSchema } from './schema-preflight';

describe('preflightSchema', () => {
  it('gives a one-sided integer range its other side', () => {
    expect(preflightSchema({ type: 'integer', minimum: 7 })).toEqual({
      type: 'integer',
      minimum: 7,
      maximum: Number.MAX_SAFE_INTEGER,
    });
    expect(preflightSchema({ type: 'integer', exclusiveMaximum: 0 })).toEqual({
      type: 'integer',
      exclusiveMaximum: 0,
      minimum: -Number.MAX_SAFE_INTEGER,
    });
  });

  it('drops extra properties beside declared ones, and keeps json_object open', () => {
    expect(
      preflightSchema({
        type: 'object',
        properties: { a: { type: 'string' } },
        additionalProperties: { type: 'integer' },
      }),
    ).toEqual({
      type: 'object',
      properties: { a: { type: 'string' } },
      additionalProperties: false,
    });
    expect(preflightSchema({ type: 'object' })).toEqual({ type: 'object' });
  });

  it('turns formats XGrammar gets wrong into patterns, keeps the ones it gets right, refuses the rest', () => {
    const date = preflightSchema({ type: 'string', format: 'date' });
    expect(date).not.toHaveProperty('format');
    const pattern = new RegExp((date as { pattern: string }).pattern);
    expect(pattern.test('2024-04-30')).toBe(true);
    expect(pattern.test('2024-04-31')).toBe(false);
    expect(preflightSchema({ type: 'string', format: 'uuid' })).toEqual({
      type: 'string',
      format: 'uuid',
    });
    expect(() => preflightSchema({ type: 'string', format: 'uri' })).toThrow(
      /"format": "uri" is not supported/,
    );
  });

  it.each([
    [
      { oneOf: [{ type: 'integer' }, { type: 'number' }] },
      '"oneOf" is not supported',
    ],
    [
      { allOf: [{ type: 'object' }, { required: ['a'] }] },
      '"allOf" with more than one',
    ],
    [{ type: 'integer', multipleOf: 5 }, '"multipleOf" is not supported'],
    [
      { type: 'array', uniqueItems: true, items: {} },
      '"uniqueItems" is not supported',
    ],
    [{ type: 'number', maximum: 1 }, 'only with "type": "integer"'],
    [{ minimum: 3 }, 'only with "type": "integer"'],
    [{ pattern: '^a' }, '"pattern" needs "type": "string"'],
    [{ type: 'string', pattern: '^a"b$' }, 'needs a quote'],
    [{ type: 'string', pattern: '^a\\\\b$' }, 'needs a quote, backslash'],
    [{ type: 'string', pattern: '^\\n$' }, 'control character'],
    [{ type: 'object', required: ['a'] }, '"required" needs "properties"'],
    [
      { type: 'object', properties: { a: {} }, required: ['b'] },
      'required property "b" is not in "properties"',
    ],
    [{ type: 'array', items: [{ type: 'integer' }] }, 'use "prefixItems"'],
    // Unknown keywords are refused, not ignored; only local references resolve.
    [{ type: 'object', minProperties: 1 }, '"minProperties" is not supported'],
    [
      { type: 'object', properties: { a: { $ref: 'https://x.test/s.json' } } },
      '"$ref" must point to',
    ],
    [{ $ref: '#/properties/a' }, '"$ref" must point to'],
  ])('refuses %j', (schema, message) => {
    expect(() => preflightSchema(schema)).toThrow(GrammarError);
    expect(() => preflightSchema(schema)).toThrow(message);
  });

  it("allows a quote or backslash inside a pattern's character class (the class loses them later)", () => {
    expect(() =>
      preflightSchema({ type: 'string', pattern: '^[a"\\\\]+$' }),
    ).not.toThrow();
  });

  it('checks schemas under $defs, anyOf and items, and refuses deep nesting', () => {
    expect(() =>
      preflightSchema({
        $defs: { x: { type: 'array', items: { anyOf: [{ not: {} }] } } },
      }),
    ).toThrow('(at /$defs/x/items/anyOf/0 in the schema)');
    let deep: Record<string, unknown> = { type: 'integer' };
    for (let i = 0; i <= MAX_SCHEMA_DEPTH; i++)
      deep = { type: 'array', items: deep };
    expect(() => preflightSchema(deep)).toThrow(/nests deeper than/);
  });
});
