import { z } from 'zod';

/** Largest value of a PostgreSQL BIGINT. */
const MAX_BIGINT = 2n ** 63n - 1n;
const MICROS_MESSAGE =
  'must be an integer number of micro-units: a JSON integer or a string of digits (no fractions)';

/**
 * Money in micro-units, as a JSON integer (up to 2^53) or a string of digits (up to 2^63-1).
 * Fractions are refused: no floating-point money.
 */
export const micros = z
  .union([z.string().regex(/^\d{1,19}$/), z.number().int().nonnegative()], {
    error: MICROS_MESSAGE,
  })
  .transform((v) => BigInt(v))
  .refine((v) => v <= MAX_BIGINT, MICROS_MESSAGE);

export const positiveMicros = micros.refine(
  (v) => v > 0n,
  'must be a positive number of micro-units',
);

export const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'at most 200 characters');

export const uuid = z.uuid('must be a UUID');

/** Earliest year a month or day may name: nothing was billed before it. */
export const MIN_YEAR = 1970;

/** A UTC calendar month, `YYYY-MM`, from {@link MIN_YEAR} on. */
export const month = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM')
  .refine(
    (m) => Number(m.slice(0, 4)) >= MIN_YEAR,
    `must be a month from ${MIN_YEAR} on`,
  );

export const positiveInt = z
  .number()
  .int('must be an integer')
  .positive('must be positive')
  .max(2_147_483_647, 'too large');

/** A `limit` query parameter. */
export const limit = (max: number, fallback: number) =>
  z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(max, `at most ${max}`)
    .default(fallback);
