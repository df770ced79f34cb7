/** Formatting shared by every page. Money arrives as integer micro-units in decimal strings. */

const MICROS_PER_UNIT = 1_000_000n;

/**
 * Micro-units as a decimal amount of the currency, exactly (BigInt, never a float): at least two
 * decimals, at most six, trailing zeros dropped beyond two. `1500000` -> `1.50`, `1234` -> `0.001234`.
 */
export function formatMicros(
  micros: string | bigint | null | undefined,
): string {
  if (micros === null || micros === undefined) return '—';
  const value = BigInt(micros);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = (abs / MICROS_PER_UNIT).toLocaleString('en-US');
  let fraction = (abs % MICROS_PER_UNIT).toString().padStart(6, '0');
  while (fraction.length > 2 && fraction.endsWith('0'))
    fraction = fraction.slice(0, -1);
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/**
 * An amount typed by an admin (`12.5`, `0.000001`) as micro-units, exactly. Null when it is not
 * a number with at most six decimals, or is zero and `allowZero` is not set (a top-up must be
 * positive; a price may be free).
 */
export function parseAmountToMicros(
  text: string,
  { allowZero = false }: { allowZero?: boolean } = {},
): bigint | null {
  const match = /^\s*(\d{1,13})(?:\.(\d{1,6}))?\s*$/.exec(text);
  if (!match) return null;
  const micros =
    BigInt(match[1]) * MICROS_PER_UNIT +
    BigInt((match[2] ?? '').padEnd(6, '0'));
  return micros > 0n || allowZero ? micros : null;
}

/** A count with thousands separators; token sums arrive as strings. */
export function formatCount(n: number | string | bigint): string {
  return BigInt(n).toLocaleString('en-US');
}

/** `2026-11-30T04:20:00Z` as `2026-11-30 04:20 UTC`; admins across zones read the same time. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** Seconds as `350 ms` or `2.4 s`; `—` when there is nothing to show. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  return `${seconds.toFixed(1)} s`;
}

/** A ratio as a percentage with one decimal, or `—` without a denominator. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '—';
  return `${((100 * part) / whole).toFixed(1)} %`;
}

/** How long ago, in words: `12 s ago`, `3 min ago`. */
export function formatAgo(
  iso: string | null | undefined,
  now = Date.now(),
): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

/** A UTC calendar day, `YYYY-MM-DD`, `offsetDays` from today. */
export function utcDay(offsetDays = 0, now = Date.now()): string {
  return new Date(now + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** The time of day of an ISO instant, `04:20:15 UTC`. */
export function formatClock(iso: string): string {
  return `${iso.slice(11, 19)} UTC`;
}

/** Bytes as MiB or GiB, e.g. "312 MiB", "1.5 GiB". */
export function formatBytes(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return mib < 1024
    ? `${Math.round(mib)} MiB`
    : `${(mib / 1024).toFixed(1)} GiB`;
}
