import { ApiError, paramName } from '@marquee/gateway/util-http';
import type { z } from 'zod';

export { paramName };

/**
 * Parses a request body, or throws a 400 in OpenAI's shape naming the first bad parameter.
 * Unknown fields are dropped, as OpenAI ignores them.
 */
export function parseBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
): z.output<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw ApiError.invalidRequest('The request body must be a JSON object.');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = paramName(issue.path);
  const missing =
    issue.path.length === 1 &&
    (body as Record<string, unknown>)[String(issue.path[0])] === undefined;
  const message = missing
    ? `Missing required parameter: '${param}'.`
    : `Invalid value for '${param}': ${issue.message}`;
  throw ApiError.invalidRequest(
    message,
    param || null,
    missing ? 'missing_required_parameter' : 'invalid_value',
  );
}
