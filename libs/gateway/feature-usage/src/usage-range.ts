import { ApiError } from '@marquee/gateway/util-http';
import { z } from 'zod';

/** Longest range one usage query may cover, in days. */
export const MAX_USAGE_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;

/** Earliest year a usage range may start in: nothing was billed before it. */
const MIN_YEAR = 1970;

const isCalendarDay = (s: string) => {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
};

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine(isCalendarDay, 'must be a real calendar date')
  .refine(
    (s) => Number(s.slice(0, 4)) >= MIN_YEAR,
    `must be a date from ${MIN_YEAR} on`,
  );

const today = () => new Date().toISOString().slice(0, 10);
const firstOfMonth = () => `${today().slice(0, 8)}01`;

/**
 * `start` and `end` query parameters: UTC days, both included. Defaults: the current month up to
 * today. `end` before `start`, or a range over {@link MAX_USAGE_RANGE_DAYS}, is a 400.
 */
export const usageRangeShape = {
  start: day.optional(),
  end: day.optional(),
};

/** Resolves the defaults and checks order and span: a 400 naming `end` when they are wrong. */
export function resolveUsageRange(q: { start?: string; end?: string }): {
  start: string;
  end: string;
} {
  const start = q.start ?? firstOfMonth();
  const end = q.end ?? today();
  const span =
    (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) /
    DAY_MS;
  if (span < 0)
    throw ApiError.invalidRequest(
      `Invalid value for 'end': must not be before start`,
      'end',
      'invalid_value',
    );
  if (span >= MAX_USAGE_RANGE_DAYS)
    throw ApiError.invalidRequest(
      `Invalid value for 'end': the range may cover at most ${MAX_USAGE_RANGE_DAYS} days`,
      'end',
      'invalid_value',
    );
  return { start, end };
}
