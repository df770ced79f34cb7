import { ApiError, paramName } from '@marquee/gateway/util-http';
import type { z } from 'zod';
import {
  type RequestFields,
  declaredKeys,
  requestFieldsOf,
} from './request-fields';

export { paramName };

type Body = Readonly<Record<string, unknown>>;

/**
 * Parses a request body, or throws a 400 in OpenAI's shape naming the first bad parameter. A
 * field the schema does not declare is refused, never dropped: with the reason from `fields`
 * (by default the table of the endpoint whose schema this is, see request-fields.ts) when
 * OpenAI documents it, as an unrecognized argument otherwise.
 */
export function parseBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
  fields: RequestFields = requestFieldsOf(schema),
): z.output<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw ApiError.invalidRequest('The request body must be a JSON object.');
  }
  refuseUndeclared(declaredKeys(schema), body as Body, fields);
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = reportable(result.error.issues[0]);
  const param = paramName(issue.path);
  if (issue.key !== undefined)
    throw unrecognized(paramName([...issue.path, issue.key]));
  const missing =
    issue.path.length === 1 &&
    (body as Body)[String(issue.path[0])] === undefined;
  const message = missing
    ? `Missing required parameter: '${param}'.`
    : `Invalid value for '${param}': ${issue.message}`;
  throw ApiError.invalidRequest(
    message,
    param || null,
    missing ? 'missing_required_parameter' : 'invalid_value',
  );
}

function refuseUndeclared(
  keys: ReadonlySet<string> | null,
  body: Body,
  fields: RequestFields,
): void {
  if (keys === null) return;
  for (const [name, value] of Object.entries(body)) {
    if (keys.has(name)) continue;
    const rule = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (rule === undefined) throw unrecognized(name);
    if (value === null || rule.harmless?.(value, body)) continue;
    throw rule.harmless
      ? ApiError.invalidRequest(
          `Unsupported value for '${name}': ${rule.reason}`,
          name,
          'unsupported_value',
        )
      : ApiError.invalidRequest(
          `Unsupported parameter: '${name}'. ${rule.reason}`,
          name,
          'unsupported_parameter',
        );
  }
}

function unrecognized(name: string): ApiError {
  return ApiError.invalidRequest(
    `Unrecognized request argument supplied: ${name}`,
    name,
    'unknown_parameter',
  );
}

interface Reportable {
  path: PropertyKey[];
  message: string;
  /** A key that a strict object (at `path`) does not declare. */
  key?: string;
}

/**
 * The issue to report. A union's own issue says only that no branch matched ("Invalid input",
 * or its custom message), which hides the limit a branch of the right type broke (five `stop`
 * strings, say): the branch that got past the input's type is reported instead.
 */
function reportable(issue: z.core.$ZodIssue): Reportable {
  if (issue.code === 'unrecognized_keys') {
    return { path: issue.path, message: issue.message, key: issue.keys[0] };
  }
  if (issue.code !== 'invalid_union' || issue.errors.length === 0)
    return { path: issue.path, message: issue.message };
  const branches = issue.errors.filter((errors) => errors.length > 0);
  // A branch failing on something other than a type took the input for its own.
  const typed = branches.find((errors) =>
    errors.some((e) => e.code !== 'invalid_type'),
  );
  // Else a single branch that got inside the input (an array of the right kind, one bad item).
  const inside = branches.filter((errors) => errors[0].path.length > 0);
  const branch = typed ?? (inside.length === 1 ? inside[0] : undefined);
  if (branch === undefined) return { path: issue.path, message: issue.message };
  const first = branch.find((e) => e.code !== 'invalid_type') ?? branch[0];
  const inner = reportable(first);
  return { ...inner, path: [...issue.path, ...inner.path] };
}
