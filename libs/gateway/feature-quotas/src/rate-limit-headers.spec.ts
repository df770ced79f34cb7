import { formatResetDuration, rateLimitHeaders } from './rate-limit-headers';

describe('rate limit headers', () => {
  it('formats reset durations the way OpenAI does', () => {
    expect(formatResetDuration(20)).toBe('20ms');
    expect(formatResetDuration(1000)).toBe('1s');
    expect(formatResetDuration(1200)).toBe('2s');
    expect(formatResetDuration(360_000)).toBe('6m0s');
    expect(formatResetDuration(3_723_000)).toBe('1h2m3s');
    expect(formatResetDuration(0)).toBe('0s');
  });

  it('never reports negative remaining counts', () => {
    const headers = rateLimitHeaders({
      limitRequests: 10,
      remainingRequests: -1,
      resetRequestsMs: 500,
      limitTokens: 100,
      remainingTokens: 40,
      resetTokensMs: 60_000,
    });
    expect(headers['x-ratelimit-remaining-requests']).toBe('0');
    expect(headers['x-ratelimit-reset-tokens']).toBe('1m0s');
  });
});
