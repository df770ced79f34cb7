import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiError } from '@marquee/gateway/util-http';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  idempotencyKeyInUse,
  idempotencyKeyReused,
  idempotencyUnavailable,
  invalidIdempotencyKey,
} from './idempotency-errors';
import {
  credentialOf,
  credentialScope,
  idempotencyKeyProblem,
  recordKey,
  requestFingerprint,
} from './idempotency-key';
import {
  IDEMPOTENCY_OPTIONS,
  type IdempotencyOptions,
  REPLAY_CREDENTIAL_CHECK,
  type ReplayCredentialCheck,
} from './idempotency-options';
import { type Claim, IdempotencyStore } from './idempotency-store.service';
import { ResponseCapture } from './response-capture';
import { openBody, sealBody, sealingKey } from './response-seal';
import {
  isReplayable,
  REPLAYED_HEADER,
  type StoredResponse,
} from './stored-response';

/** One claimed key, held by the request that runs it. */
interface Held {
  record: string;
  fingerprint: string;
  owner: string;
  requestId: string;
  /** Seals the stored body (see response-seal.ts). */
  seal: Buffer;
}

/**
 * `Idempotency-Key` on every POST, as a Fastify `preHandler` hook (it runs before Nest's guards
 * and handlers, so it covers every controller and lets a duplicate cost nothing):
 *
 * - no header: nothing changes;
 * - a bad key: 400; Redis unreachable: 503, and the request does not run unprotected;
 * - a new key: claimed with a lease this request renews while it runs; its response is captured
 *   as written (SSE byte for byte) and stored for 24 h once the handler has ended it, unless it
 *   is one to retry (429, 409, 5xx, 401/403, a stream without `[DONE]`): then the key is released;
 * - the client gone before the handler ended the response: released (the gateway cancels that
 *   run; it is billed for what it generated, and a retry runs as a new request);
 * - the same key while the first runs: 409 `idempotency_key_in_use` with `retry-after`;
 * - the same key, finished: the stored response with `idempotent-replayed: true`;
 * - the same key with another body, method or URL: 422 `idempotency_key_reused`.
 *
 * Keys are scoped to a hash of the caller's credential, and stored bodies are sealed with a key
 * derived from it (AES-256-GCM): no one else can reach a response, and Redis holds no plaintext.
 */
@Injectable()
export class IdempotencyHooks implements OnModuleInit {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly store: IdempotencyStore,
    @Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyOptions,
    @Optional() private readonly metrics?: GatewayMetrics,
    @Optional()
    @Inject(REPLAY_CREDENTIAL_CHECK)
    private readonly credentials?: ReplayCredentialCheck,
  ) {}

  onModuleInit(): void {
    // Absent in an application context without HTTP (scripts); there is nothing to protect.
    const adapter = this.adapterHost.httpAdapter as
      | { getInstance(): FastifyInstance }
      | undefined;
    if (adapter) this.install(adapter.getInstance());
  }

  /** Registers the hook; call before the server is ready. */
  install(instance: FastifyInstance): void {
    instance.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'POST') return;
      const header = request.headers['idempotency-key'];
      if (header === undefined) return;
      return this.admit(
        request,
        reply,
        Array.isArray(header) ? header.join(', ') : header,
      );
    });
  }

  private async admit(
    request: FastifyRequest,
    reply: FastifyReply,
    key: string,
  ): Promise<FastifyReply | undefined> {
    const problem = idempotencyKeyProblem(key);
    if (problem) {
      this.count('invalid');
      return refuse(reply, invalidIdempotencyKey(problem));
    }
    const held: Held = {
      record: recordKey(credentialScope(request.headers.authorization), key),
      fingerprint: requestFingerprint(
        request.method,
        request.url,
        request.body,
      ),
      owner: randomUUID(),
      requestId: request.id,
      seal: sealingKey(credentialOf(request.headers.authorization)),
    };
    let claim: Claim;
    try {
      claim = await this.store.claim(held.record, held.fingerprint, held.owner);
    } catch (error) {
      this.logger.error(
        { requestId: request.id, err: (error as Error).message },
        'idempotency key not checked: Redis unavailable; answering 503',
      );
      this.count('unavailable');
      return refuse(reply, idempotencyUnavailable());
    }
    switch (claim.kind) {
      case 'claimed':
        this.count('claimed');
        this.follow(reply, held);
        return undefined;
      case 'running':
        this.count('in_progress');
        return refuse(reply, idempotencyKeyInUse(1));
      case 'mismatch':
        this.count('mismatch');
        return refuse(reply, idempotencyKeyReused());
      case 'done':
        try {
          await this.credentials?.verify(request);
        } catch (error) {
          if (error instanceof ApiError) return refuse(reply, error);
          throw error;
        }
        return this.replay(reply, held, claim.response);
    }
  }

  private replay(
    reply: FastifyReply,
    held: Held,
    response: StoredResponse,
  ): FastifyReply {
    let body: Buffer;
    try {
      body = openBody(held.seal, response.body);
    } catch (error) {
      this.count('unreadable');
      this.logger.error(
        { requestId: held.requestId, err: (error as Error).message },
        'stored idempotent response could not be opened',
      );
      return refuse(reply, ApiError.internal(held.requestId));
    }
    this.count('replayed');
    return reply
      .code(response.status)
      .headers(response.headers)
      .header(REPLAYED_HEADER, 'true')
      .send(body);
  }

  /** Keeps the lease alive while the request runs, then stores or releases the key. */
  private follow(reply: FastifyReply, held: Held): void {
    const raw = reply.raw;
    const capture = new ResponseCapture(raw, this.options.maxStoredBytes);
    const renewal = setInterval(
      () => void this.renew(held, renewal),
      Math.max(1, Math.floor(this.options.leaseMs / 3)),
    );
    renewal.unref();
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearInterval(renewal);
      void this.settle(held, capture);
    };
    raw.once('finish', settle);
    raw.once('close', settle);
  }

  private async renew(held: Held, renewal: NodeJS.Timeout): Promise<void> {
    try {
      if (await this.store.renew(held.record, held.owner)) return;
      clearInterval(renewal);
      this.count('lease_lost');
      this.logger.warn(
        { requestId: held.requestId },
        'idempotency lease lapsed while the request ran; a retry with its key may run again',
      );
    } catch (error) {
      this.count('renew_failed');
      this.logger.warn(
        { requestId: held.requestId, err: (error as Error).message },
        'idempotency lease not renewed (will try again)',
      );
    }
  }

  private async settle(held: Held, capture: ResponseCapture): Promise<void> {
    const response = capture.response();
    const keep = capture.ended && !capture.overflowed && isReplayable(response);
    try {
      if (!keep) {
        await this.store.release(held.record, held.owner);
        this.count(capture.overflowed ? 'too_large' : 'released');
        return;
      }
      const sealed = { ...response, body: sealBody(held.seal, response.body) };
      if (
        await this.store.complete(
          held.record,
          held.owner,
          held.fingerprint,
          sealed,
        )
      ) {
        this.count('stored');
        return;
      }
      this.count('lease_lost');
      this.logger.warn(
        { requestId: held.requestId },
        'idempotency response not stored: its lease lapsed and another request holds the key',
      );
    } catch (error) {
      this.count('store_failed');
      this.logger.error(
        { requestId: held.requestId, err: (error as Error).message },
        `idempotency key not ${keep ? 'stored' : 'released'}; it stays claimed until its lease lapses`,
      );
    }
  }

  private count(outcome: string): void {
    this.metrics?.idempotency.inc({ outcome });
  }
}

function refuse(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply
    .code(error.status)
    .headers(error.headers)
    .header('content-type', 'application/json')
    .send(error.toBody());
}
