import { GrammarError } from './grammar-error';

/** A JSON schema: an object, or `true`/`false`. */
export type JsonSchema = Record<string, unknown> | boolean;

/** Deepest nesting of schema documents accepted (XGrammar's converter recurses natively). */
export const MAX_SCHEMA_DEPTH = 64;

// The keywords XGrammar 0.1.27 enforces exactly (with the checks and rewrites below), and the
// annotations that change nothing. Any other keyword is refused: XGrammar ignores or gets wrong
// `not`, `oneOf`, `if`/`then`/`else`, `multipleOf`, `contains`, `patternProperties`, ..., and a
// keyword it does not know it ignores silently, so output could break the schema.
const SUPPORTED = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'anyOf',
  'allOf',
  '$ref',
  '$defs',
  'definitions',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  // Annotations.
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
/** References XGrammar resolves: the root, or a schema in the root's `$defs`/`definitions`. */
const LOCAL_REF = /^#(\/(\$defs|definitions)\/[^/]+)?$/;
const STRING_KEYWORDS = ['minLength', 'maxLength', 'pattern', 'format'];
const BOUND_KEYWORDS = [
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
];
const SCHEMA_MAPS = ['properties', '$defs', 'definitions'];
const SCHEMA_LISTS = ['anyOf', 'allOf', 'prefixItems'];
const SCHEMA_VALUES = ['items', 'additionalProperties'];

const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DATE =
  '[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))';
const TIME =
  '([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])';
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
/**
 * The `format`s enforced (OpenAI's list), each as the pattern it becomes, or `null` where
 * XGrammar's own grammar is right. XGrammar's others are wrong somewhere: `email` lets a quoted
 * local part carry invalid escapes, `date` allows 02-31, `time` a leap second at any minute,
 * `ipv4` leading zeros, `hostname` labels past 63 characters. The patterns are the forms
 * ajv-formats accepts, narrowed where that keeps them simple and bounded (no February 29, no leap
 * second, at most three labels, at most one dot before an email's `@`).
 */
const FORMATS: Readonly<Record<string, string | null>> = {
  email: `^${ATOM}{1,32}(\\.${ATOM}{1,31})?@(${LABEL}\\.){1,2}${LABEL}$`,
  date: `^${DATE}$`,
  time: `^${TIME}$`,
  'date-time': `^${DATE}T${TIME}$`,
  ipv4: `^${OCTET}(\\.${OCTET}){3}$`,
  hostname: `^${LABEL}(\\.${LABEL}){0,2}$`,
  uuid: null,
  ipv6: null,
  duration: null,
};

/**
 * Checks a JSON schema against what XGrammar enforces correctly and returns a copy rewritten so
 * that every output XGrammar allows validates against the original schema. Where XGrammar would
 * silently ignore or mis-handle a keyword (`not`, `oneOf`, `multipleOf`, bounds on non-integer
 * numbers, a string keyword without `"type": "string"`, ...) this throws {@link GrammarError},
 * naming the place in the schema. Rewrites: one-sided integer bounds get the other side at
 * ±(2^53 − 1) (XGrammar lets `{"minimum": 7}` through 1..6); extra properties beside declared
 * ones are dropped (XGrammar lets an extra key repeat a declared one); most `format`s become
 * patterns (see FORMATS).
 */
export function preflightSchema(schema: unknown): JsonSchema {
  return check(schema, '', 0);
}

function check(schema: unknown, at: string, depth: number): JsonSchema {
  if (typeof schema === 'boolean') return schema;
  const fail = (why: string): never => {
    throw new GrammarError(`${why} (at ${at || '/'} in the schema)`);
  };
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    return fail('a schema must be an object or a boolean');
  if (depth > MAX_SCHEMA_DEPTH)
    return fail(`the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`);
  const out: Record<string, unknown> = { ...schema };
  for (const keyword of Object.keys(out))
    if (!SUPPORTED.has(keyword)) fail(`"${keyword}" is not supported`);
  // Any other reference XGrammar would turn into "any JSON", with only a warning.
  if (
    '$ref' in out &&
    (typeof out.$ref !== 'string' || !LOCAL_REF.test(out.$ref))
  )
    fail(
      `"$ref" must point to "#", "#/$defs/<name>" or "#/definitions/<name>", got ${JSON.stringify(out.$ref)}`,
    );
  if (out.uniqueItems === true) fail('"uniqueItems" is not supported');
  if (Array.isArray(out.allOf) && out.allOf.length > 1)
    fail('"allOf" with more than one schema is not supported');
  if (Array.isArray(out.items))
    fail('"items" must be a schema; use "prefixItems" for tuples');

  const types = typeof out.type === 'string' ? [out.type] : out.type;
  const hasType = (t: string) => Array.isArray(types) && types.includes(t);
  for (const keyword of STRING_KEYWORDS)
    if (keyword in out && !hasType('string'))
      fail(`"${keyword}" needs "type": "string"`);
  const bounds = BOUND_KEYWORDS.filter((k) => k in out);
  if (bounds.length) {
    if (!hasType('integer') || hasType('number'))
      fail(
        `"${bounds[0]}" is supported only with "type": "integer" (XGrammar's bounds on other numbers are unreliable)`,
      );
    if (!('minimum' in out || 'exclusiveMinimum' in out))
      out.minimum = -Number.MAX_SAFE_INTEGER;
    if (!('maximum' in out || 'exclusiveMaximum' in out))
      out.maximum = Number.MAX_SAFE_INTEGER;
  }
  if (typeof out.pattern === 'string') {
    if ('format' in out)
      fail('"pattern" and "format" together are not supported');
    checkPattern(out.pattern, fail);
  }
  if ('format' in out) {
    const format = String(out.format);
    const pattern = Object.hasOwn(FORMATS, format)
      ? FORMATS[format]
      : undefined;
    if (pattern === undefined)
      fail(
        `"format": ${JSON.stringify(format)} is not supported (supported: ${Object.keys(FORMATS).join(', ')})`,
      );
    if (pattern) {
      delete out.format;
      out.pattern = pattern;
    }
  }

  const properties = out.properties;
  if (properties !== undefined) {
    if (typeof properties !== 'object' || properties === null)
      fail('"properties" must be an object');
    if (Array.isArray(out.required))
      for (const name of out.required)
        if (
          typeof name !== 'string' ||
          !Object.hasOwn(properties as object, name)
        )
          fail(
            `required property ${JSON.stringify(name)} is not in "properties"`,
          );
    if (out.additionalProperties !== false) out.additionalProperties = false;
  } else if (Array.isArray(out.required) && out.required.length > 0)
    fail('"required" needs "properties" that declare the required names');

  for (const key of SCHEMA_MAPS) {
    const map = out[key];
    if (map === undefined) continue;
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      fail(`"${key}" must be an object`);
    out[key] = Object.fromEntries(
      Object.entries(map as object).map(([name, sub]) => [
        name,
        check(sub, `${at}/${key}/${escapePointer(name)}`, depth + 1),
      ]),
    );
  }
  for (const key of SCHEMA_LISTS) {
    const list = out[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return fail(`"${key}" must be an array`);
    out[key] = list.map((sub, i) => check(sub, `${at}/${key}/${i}`, depth + 1));
  }
  for (const key of SCHEMA_VALUES)
    if (out[key] !== undefined)
      out[key] = check(out[key], `${at}/${key}`, depth + 1);
  return out;
}

/**
 * XGrammar matches a pattern against the raw JSON text between the quotes, not the decoded
 * string, so a pattern needing a quote, a backslash or a control character outside a character
 * class would produce broken JSON. (Character classes lose those in `sanitizeJsonEbnf`.)
 */
function checkPattern(pattern: string, fail: (why: string) => never): void {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const code = c.charCodeAt(0);
    if (c === '\\') {
      const e = pattern[i + 1] ?? '';
      i++;
      if (inClass) continue;
      const hex =
        e === 'x'
          ? pattern.slice(i + 1, i + 3)
          : e === 'u'
            ? pattern.slice(i + 1, i + 5)
            : undefined;
      const escaped = hex === undefined ? undefined : parseInt(hex, 16);
      if (
        (e !== '' && '\\"nrtfv0'.includes(e)) ||
        (escaped !== undefined &&
          (escaped < 0x20 || escaped === 0x22 || escaped === 0x5c))
      )
        fail(
          `"pattern" ${JSON.stringify(pattern)} needs a quote, backslash or control character, which constrained decoding cannot produce`,
        );
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '"' || code < 0x20)
      fail(
        `"pattern" ${JSON.stringify(pattern)} needs a quote or control character, which constrained decoding cannot produce`,
      );
  }
}

function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}
