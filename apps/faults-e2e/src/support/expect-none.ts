import type { StreamOutcome } from './streams';

/** One outcome in a line: request id, status, tokens, error, timing. */
export function describeOutcome(o: StreamOutcome, since = o.startedAt): string {
  const error = o.error
    ? `${o.error.kind} ${o.error.status ?? ''} ${o.error.code ?? ''} retry-after=${o.error.retryAfter ?? '-'}`
    : 'no error';
  return `${o.requestId ?? '(no id)'}: status ${o.status ?? '-'}, ${o.tokens} tokens, finish ${o.finishReason ?? '-'}, ${error}, ended ${o.endedAt - since} ms after ${since === o.startedAt ? 'it started' : 'the fault'}`;
}

/**
 * Asserts that `offending` is empty, and when it is not, shows how many and the first ten
 * (described by `describe`) in the failure.
 */
export function expectNone(
  offending: StreamOutcome[],
  describe: (o: StreamOutcome) => string = describeOutcome,
): void {
  expect({
    count: offending.length,
    first: offending.slice(0, 10).map((o) => describe(o)),
  }).toEqual({ count: 0, first: [] });
}
