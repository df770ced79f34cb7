/** What the client learns about its limits on every response. */
export interface RateLimitSnapshot {
  limitRequests: number;
  remainingRequests: number;
  resetRequestsMs: number;
  limitTokens: number;
  remainingTokens: number;
  resetTokensMs: number;
}

/** OpenAI's reset format: `20ms`, `1s`, `6m0s`, `1h2m3s`. */
export function formatResetDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const total = Math.ceil(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** The `x-ratelimit-*` headers of a snapshot. */
export function rateLimitHeaders(s: RateLimitSnapshot): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(s.limitRequests),
    'x-ratelimit-remaining-requests': String(Math.max(0, s.remainingRequests)),
    'x-ratelimit-reset-requests': formatResetDuration(s.resetRequestsMs),
    'x-ratelimit-limit-tokens': String(s.limitTokens),
    'x-ratelimit-remaining-tokens': String(Math.max(0, s.remainingTokens)),
    'x-ratelimit-reset-tokens': formatResetDuration(s.resetTokensMs),
  };
}
