import { ApiError } from '@marquee/gateway/util-http';
import type { z } from 'zod';

/** Validates an admin payload; 400 naming the first bad field. */
export function parseAdminBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue.path.join('.') || null;
  throw ApiError.invalidRequest(
    `Invalid value for '${param ?? 'body'}': ${issue.message}`,
    param,
    'invalid_value',
  );
}
