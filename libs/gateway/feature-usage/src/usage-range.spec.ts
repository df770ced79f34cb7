import { ApiError } from '@marquee/gateway/util-http';
import { resolveUsageRange } from './usage-range';

describe('resolveUsageRange', () => {
  it('defaults to the current UTC month up to today', () => {
    const today = new Date().toISOString().slice(0, 10);
    expect(resolveUsageRange({})).toEqual({
      start: `${today.slice(0, 8)}01`,
      end: today,
    });
  });

  it('accepts a single day and a range of up to 366 days', () => {
    expect(
      resolveUsageRange({ start: '2026-03-01', end: '2026-03-01' }),
    ).toEqual({
      start: '2026-03-01',
      end: '2026-03-01',
    });
    expect(() =>
      resolveUsageRange({ start: '2024-01-01', end: '2024-12-31' }),
    ).not.toThrow();
  });

  it('refuses an end before the start, or a longer range, with a 400 naming end', () => {
    for (const range of [
      { start: '2026-03-02', end: '2026-03-01' },
      { start: '2024-01-01', end: '2025-01-01' },
    ]) {
      let error: unknown;
      try {
        resolveUsageRange(range);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).param).toBe('end');
    }
  });
});
