/** Cumulative bucket counts of a Prometheus histogram: upper bound (seconds) -> observations ≤ it. */
export type CumulativeBuckets = ReadonlyMap<number, number>;

/**
 * The `q` quantile of a histogram, estimated as Prometheus' `histogram_quantile` does: linear
 * interpolation inside the bucket the rank falls in (the first bucket starts at 0). Null when
 * there are no observations. When the rank falls in the `+Inf` bucket, the highest finite bound
 * is returned (the estimate cannot be larger).
 */
export function histogramQuantile(
  q: number,
  buckets: CumulativeBuckets,
): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? buckets.get(bounds.at(-1) ?? 0) ?? 0;
  if (total <= 0 || bounds.length === 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bound of bounds) {
    const count = buckets.get(bound) ?? 0;
    if (count >= rank) {
      if (bound === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      if (inBucket <= 0) return bound;
      return (
        lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket
      );
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

/** `later - earlier`, bucket by bucket: the observations made between two snapshots. */
export function subtractBuckets(
  later: CumulativeBuckets,
  earlier: CumulativeBuckets | undefined,
): Map<number, number> {
  const out = new Map<number, number>();
  for (const [bound, count] of later)
    out.set(bound, count - (earlier?.get(bound) ?? 0));
  return out;
}
