import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatBytes,
  formatMicros,
  formatSeconds,
  parseAmountToMicros,
} from './format';

describe('money', () => {
  it('shows micro-units as an exact decimal amount', () => {
    expect(formatMicros('1500000')).toBe('1.50');
    expect(formatMicros('1234')).toBe('0.001234');
    expect(formatMicros('123456789012345678')).toBe('123,456,789,012.345678');
    expect(formatMicros('-2500000')).toBe('-2.50');
    expect(formatMicros(null)).toBe('—');
  });

  it('reads a typed amount into micro-units without floating point', () => {
    expect(parseAmountToMicros('25')).toBe(25_000_000n);
    expect(parseAmountToMicros('0.1')).toBe(100_000n);
    expect(parseAmountToMicros(' 12.000001 ')).toBe(12_000_001n);
    // 0.1 + 0.2 style traps never arise: digits are taken as they are.
    expect(parseAmountToMicros('0.3')).toBe(300_000n);
  });

  it('takes zero only where it is allowed (a free model, never a top-up)', () => {
    expect(parseAmountToMicros('0', { allowZero: true })).toBe(0n);
    expect(parseAmountToMicros('0.20', { allowZero: true })).toBe(200_000n);
    expect(parseAmountToMicros('0')).toBeNull();
  });

  it('refuses amounts that are not positive or have more than six decimals', () => {
    for (const bad of ['', '0', '0.0', '-1', '1.0000001', '1e3', 'ten'])
      expect(parseAmountToMicros(bad)).toBeNull();
  });
});

describe('times', () => {
  it('says how long ago in words', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(formatAgo('2026-11-30T11:59:50Z', now)).toBe('10 s ago');
    expect(formatAgo('2026-11-30T11:30:00Z', now)).toBe('30 min ago');
    expect(formatAgo(null, now)).toBe('never');
  });

  it('shows memory in MiB, and in GiB from 1 GiB', () => {
    expect(formatBytes(312 * 2 ** 20)).toBe('312 MiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
  });

  it('shows latencies in ms below a second', () => {
    expect(formatSeconds(0.0349)).toBe('35 ms');
    expect(formatSeconds(2.44)).toBe('2.4 s');
    expect(formatSeconds(null)).toBe('—');
  });
});
