import type { FastifyInstance } from 'fastify';
import { ApiError } from './api-error';
import { paramName } from './param-name';

/**
 * A NUL character, or a UTF-16 surrogate without its pair. PostgreSQL stores neither in text or
 * JSON, and no tokenizer means anything by them.
 */
const UNSAFE_TEXT =
  // eslint-disable-next-line no-control-regex -- finding NUL is the point
  /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `text` holds a NUL or a lone surrogate. */
export const isUnsafeText = (text: string): boolean => UNSAFE_TEXT.test(text);

/** A position in a JSON value; paths are built only for the one field reported. */
interface Step {
  value: unknown;
  key: PropertyKey | null;
  parent: Step | null;
}

const pathOf = (step: Step | null): PropertyKey[] => {
  const path: PropertyKey[] = [];
  for (let s = step; s && s.key !== null; s = s.parent) path.push(s.key);
  return path.reverse();
};

/**
 * The path of the first string in `value` (object keys included) that holds a NUL or a lone
 * surrogate, or null. Walks without recursion, in time linear in the size of `value`, so no
 * nesting depth overflows the stack or costs more than the bytes that carry it.
 */
export function findUnsafeText(value: unknown): PropertyKey[] | null {
  const stack: Step[] = [{ value, key: null, parent: null }];
  while (stack.length > 0) {
    const step = stack.pop() as Step;
    const current = step.value;
    if (typeof current === 'string') {
      if (isUnsafeText(current)) return pathOf(step);
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--)
        stack.push({ value: current[i], key: i, parent: step });
    } else if (current !== null && typeof current === 'object') {
      const entries = Object.entries(current);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, inner] = entries[i];
        // A bad key is named by the object that holds it: the key itself cannot be echoed.
        if (isUnsafeText(key)) return pathOf(step);
        stack.push({ value: inner, key, parent: step });
      }
    }
  }
  return null;
}

/**
 * Refuses, with 400 `invalid_request_error` naming the field, any request whose JSON body, query
 * string or path parameters hold a NUL or a lone surrogate: one check for every route, before
 * any handler, so no field can reach PostgreSQL (or a tokenizer) with one.
 */
export function installTextGuard(instance: FastifyInstance): void {
  instance.addHook('preValidation', (request, _reply, done) => {
    for (const part of [request.params, request.query, request.body]) {
      const path = findUnsafeText(part);
      if (path === null) continue;
      const param = paramName(path) || null;
      done(
        ApiError.invalidRequest(
          `Invalid value for '${param ?? 'body'}': text must not contain NUL characters or unpaired UTF-16 surrogates.`,
          param,
          'invalid_value',
        ),
      );
      return;
    }
    done();
  });
}
