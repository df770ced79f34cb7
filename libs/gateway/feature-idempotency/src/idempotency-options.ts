import type { FastifyRequest } from 'fastify';
/** DI token for {@link IdempotencyOptions} (tests override it; the app uses the defaults). */
export const IDEMPOTENCY_OPTIONS = Symbol('IDEMPOTENCY_OPTIONS');

/** How long things live and how much is kept. */
export interface IdempotencyOptions {
  /** How long a finished response is replayed, ms. Default 24 h. */
  replayTtlMs: number;
  /**
   * The running request's lease, ms (default 15 s), renewed every `leaseMs / 3` while it runs.
   * A gateway that dies mid-request blocks its key for at most this long; then a retry runs.
   */
  leaseMs: number;
  /** How long a Redis call may take before the request is answered 503, ms. Default 1.5 s. */
  redisTimeoutMs: number;
  /**
   * Largest body kept for replay, bytes (default 16 MiB). A bigger response is not stored: its
   * key is released and a repeat runs again.
   */
  maxStoredBytes: number;
}

export const DEFAULT_IDEMPOTENCY_OPTIONS: IdempotencyOptions = {
  replayTtlMs: 24 * 60 * 60 * 1000,
  leaseMs: 15_000,
  redisTimeoutMs: 1_500,
  maxStoredBytes: 16 * 1024 * 1024,
};

/**
 * DI token (optional): checks a request's credential is still accepted before a stored response
 * is replayed to it (a key revoked since gets 401, not the replay); throws the error to send.
 */
export const REPLAY_CREDENTIAL_CHECK = Symbol('REPLAY_CREDENTIAL_CHECK');

export interface ReplayCredentialCheck {
  verify(request: FastifyRequest): Promise<void>;
}
