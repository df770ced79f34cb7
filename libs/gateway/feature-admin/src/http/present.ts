/**
 * Wire format of admin responses. BigInt columns (money in micro-units, token sums) are always
 * decimal strings, never JSON numbers, so no client parses them through a double. Times are ISO
 * 8601 UTC strings.
 */
export const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

export const str = (n: bigint | null): string | null => n?.toString() ?? null;

export const list = <T>(data: T[]) => ({ object: 'list' as const, data });
