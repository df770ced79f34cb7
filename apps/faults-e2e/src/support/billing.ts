import type { FaultStack } from './fault-stack';
import type { LedgerEntry } from './ledger';
import { completed, type StreamOutcome } from './streams';

/** What is wrong with one request's billing, or null when it is right. */
export function billingProblem(
  outcome: StreamOutcome,
  entry: LedgerEntry | undefined,
): string | null {
  const id = outcome.requestId;
  if (!entry)
    return `${id}: not in the ledger (delivered ${outcome.tokens} tokens)`;
  if (entry.usageRows !== 1) return `${id}: ${entry.usageRows} usage rows`;
  if (entry.costMicros > 0n && entry.chargeRows !== 1)
    return `${id}: ${entry.chargeRows} charges for a cost of ${entry.costMicros}`;
  if (entry.chargeMicros !== -entry.costMicros)
    return `${id}: charged ${-entry.chargeMicros}, cost ${entry.costMicros}`;
  if (entry.completionTokens !== outcome.tokens)
    return `${id}: billed ${entry.completionTokens} completion tokens, delivered ${outcome.tokens} (${outcome.error ? `ended by ${outcome.error.kind} ${outcome.error.code ?? ''}` : 'completed'})`;
  if (
    completed(outcome) &&
    (entry.promptTokens !== outcome.usage?.promptTokens ||
      entry.completionTokens !== outcome.usage?.completionTokens)
  )
    return `${id}: billed ${entry.promptTokens}+${entry.completionTokens}, usage chunk said ${outcome.usage?.promptTokens}+${outcome.usage?.completionTokens}`;
  if (outcome.tokens > 0 && entry.promptTokens <= 0)
    return `${id}: no prompt tokens billed`;
  return null;
}

/**
 * Every request whose stream opened (200) is billed exactly once, within `timeoutMs`, for the
 * completion tokens its client received; a request refused before it opened is billed no
 * completion tokens. No request id appears twice anywhere in the ledger.
 */
export async function expectBilledAsDelivered(
  stack: FaultStack,
  outcomes: StreamOutcome[],
  timeoutMs: number,
): Promise<void> {
  const opened = outcomes.filter((o) => o.status === 200 && o.requestId);
  const refused = outcomes.filter((o) => o.status !== 200 && o.requestId);
  const ids = outcomes.flatMap((o) => (o.requestId ? [o.requestId] : []));
  const ledger = await stack.ledger.settled(
    opened.map((o) => o.requestId as string),
    timeoutMs,
  );
  const all = await stack.ledger.entries(ids);

  const problems = opened.flatMap((o) => {
    const problem = billingProblem(o, ledger.get(o.requestId as string));
    return problem ? [problem] : [];
  });
  for (const o of refused) {
    const entry = all.get(o.requestId as string);
    if (entry && entry.completionTokens > 0)
      problems.push(
        `${o.requestId}: refused with ${o.status} ${o.error?.code ?? ''} but billed ${entry.completionTokens} completion tokens (the job ran though the client was told to retry)`,
      );
  }
  for (const o of opened.filter(completed))
    if (o.usage?.completionTokens !== o.tokens)
      problems.push(
        `${o.requestId}: usage chunk says ${o.usage?.completionTokens} completion tokens, client received ${o.tokens}`,
      );

  expect({
    problems: problems.length,
    of: opened.length,
    first: problems.slice(0, 12),
  }).toEqual({ problems: 0, of: opened.length, first: [] });
  expect(await stack.ledger.duplicates()).toEqual([]);
}
