import { histogramQuantile, subtractBuckets } from './histogram-quantile';

const buckets = (entries: [number, number][]) => new Map(entries);

describe('histogramQuantile', () => {
  it('is null without observations', () => {
    expect(
      histogramQuantile(
        0.95,
        buckets([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeNull();
  });

  it('interpolates inside the bucket the rank falls in, as Prometheus does', () => {
    // 100 observations: 50 up to 0.1 s, 40 more up to 0.5 s, 10 more up to 1 s.
    const h = buckets([
      [0.1, 50],
      [0.5, 90],
      [1, 100],
      [Infinity, 100],
    ]);
    // rank 95 lies halfway through the (0.5, 1] bucket.
    expect(histogramQuantile(0.95, h)).toBeCloseTo(0.75);
    // rank 50 is the whole first bucket: its upper bound.
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.1);
  });

  it('answers the highest finite bound when the rank is in +Inf', () => {
    const h = buckets([
      [1, 1],
      [2, 2],
      [Infinity, 10],
    ]);
    expect(histogramQuantile(0.95, h)).toBe(2);
  });
});

describe('subtractBuckets', () => {
  it('keeps only what was observed after the earlier snapshot', () => {
    const earlier = buckets([
      [1, 3],
      [Infinity, 4],
    ]);
    const later = buckets([
      [1, 5],
      [Infinity, 9],
    ]);
    expect([...subtractBuckets(later, earlier)]).toEqual([
      [1, 2],
      [Infinity, 5],
    ]);
    expect([...subtractBuckets(later, undefined)]).toEqual([...later]);
  });
});
