import { Inject, Injectable } from '@nestjs/common';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import {
  CLAIM_SCRIPT,
  COMPLETE_SCRIPT,
  RELEASE_SCRIPT,
  RENEW_SCRIPT,
} from './idempotency.lua';
import {
  IDEMPOTENCY_OPTIONS,
  type IdempotencyOptions,
} from './idempotency-options';
import type { StoredResponse } from './stored-response';

/** What a claim found. */
export type Claim =
  | { kind: 'claimed' }
  | { kind: 'running'; leaseLeftMs: number }
  | { kind: 'mismatch' }
  | { kind: 'done'; response: StoredResponse };

/** Redis did not answer in time or refused the command. */
export class IdempotencyStoreUnavailable extends Error {
  constructor(operation: string, cause: unknown) {
    super(
      `idempotency store ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'IdempotencyStoreUnavailable';
  }
}

/** The idempotency records in Redis (`mq:idem:*`), on the gateway's shared connection. */
@Injectable()
export class IdempotencyStore {
  constructor(
    private readonly redis: RedisConnection,
    @Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyOptions,
  ) {}

  /** Claims `key` for the request `owner`, or says who has it and how it ended. */
  async claim(key: string, fingerprint: string, owner: string): Promise<Claim> {
    const reply = (await this.run('claim', CLAIM_SCRIPT, key, [
      fingerprint,
      owner,
      this.options.leaseMs,
    ])) as Buffer[];
    const kind = reply[0].toString();
    switch (kind) {
      case 'claimed':
        return { kind };
      case 'mismatch':
        return { kind };
      case 'running':
        return { kind, leaseLeftMs: Number(reply[1].toString()) };
      case 'done':
        return {
          kind,
          response: {
            status: Number(reply[1].toString()),
            headers: JSON.parse(reply[2].toString()) as Record<string, string>,
            body: reply[3],
          },
        };
      default:
        throw new IdempotencyStoreUnavailable(
          'claim',
          `unexpected reply ${kind}`,
        );
    }
  }

  /** Extends the owner's lease; false when it no longer holds it. */
  async renew(key: string, owner: string): Promise<boolean> {
    const held = await this.run('renew', RENEW_SCRIPT, key, [
      owner,
      this.options.leaseMs,
    ]);
    return Number(held) === 1;
  }

  /** Stores the finished response for replay; false when another request holds the key now. */
  async complete(
    key: string,
    owner: string,
    fingerprint: string,
    response: StoredResponse,
  ): Promise<boolean> {
    const stored = await this.run('complete', COMPLETE_SCRIPT, key, [
      owner,
      fingerprint,
      response.status,
      JSON.stringify(response.headers),
      response.body,
      this.options.replayTtlMs,
    ]);
    return Number(stored) === 1;
  }

  /** Frees the owner's claim so the next request with the key runs for real. */
  async release(key: string, owner: string): Promise<boolean> {
    return (
      Number(await this.run('release', RELEASE_SCRIPT, key, [owner])) === 1
    );
  }

  private async run(
    operation: string,
    script: string,
    key: string,
    args: (string | number | Buffer)[],
  ): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`no answer within ${this.options.redisTimeoutMs} ms`),
          ),
        this.options.redisTimeoutMs,
      );
    });
    try {
      return await Promise.race([
        this.redis.client.callBuffer('EVAL', [script, 1, key, ...args]),
        timeout,
      ]);
    } catch (error) {
      throw new IdempotencyStoreUnavailable(operation, error);
    } finally {
      clearTimeout(timer);
    }
  }
}
