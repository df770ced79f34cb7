import { ApiError } from './api-error';
import type { z } from 'zod';

/**
 * Validates an admin payload or query; a 400 in OpenAI's shape naming the first bad field
 * (for an unknown field, that field).
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [...issue.path];
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]);
  const param = path.map(String).join('.') || null;
  const message =
    issue.code === 'unrecognized_keys'
      ? `Unrecognized request argument supplied: ${param}`
      : `Invalid value for '${param ?? 'body'}': ${issue.message}`;
  throw ApiError.invalidRequest(message, param, 'invalid_value');
}
