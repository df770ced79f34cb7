import type { DestinationStream } from 'pino';

/**
 * Marquee secrets as they could appear in any text: tenant keys (`mq_...`) and admin tokens
 * (`mqa_...`). Anything that looks like one is masked before a log line leaves the process.
 */
export const SECRET_PATTERN = /\b(mqa?_)[A-Za-z0-9_-]{6,}/g;

/** `text` with every Marquee key or token masked (`mq_[redacted]`). */
export function scrubSecrets(text: string): string {
  return text.replace(SECRET_PATTERN, '$1[redacted]');
}

/**
 * A pino destination that masks secrets in each serialized line, then writes it to `target`.
 * This is the last line of defence: it also catches keys inside free-text messages and error
 * strings, which path-based `redact` cannot see.
 */
export function scrubbingDestination(
  target: { write(chunk: string): unknown } = process.stdout,
): DestinationStream {
  return { write: (line: string) => void target.write(scrubSecrets(line)) };
}
