import { Injectable, Logger } from '@nestjs/common';
import {
  type JobBilling,
  jobRunKey,
  WORKER_PRESENCE_TTL_S,
} from '@marquee/contracts/queue';
import { BillingRepository } from '@marquee/gateway/data-access-db';
import {
  RedisConnection,
  type RoutedJob,
  type TenantQueues,
  WorkerPresenceService,
} from '@marquee/gateway/data-access-queue';
import {
  type Admission,
  AdmissionService,
} from '@marquee/gateway/feature-quotas';
import { RequestRegistry } from '@marquee/gateway/transport-grpc';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import { ApiError, type Principal } from '@marquee/gateway/util-http';
import { type QueueDeadline, queueDeadline } from './queue-deadline';
import { failure } from './request-accounting.service';

/** Where a worker reports a job of this gateway, and when it was queued. */
export interface JobAddress {
  replyTo: { gatewayId: string; address: string };
  enqueuedAt: number;
}

/** What a queued job carries for its usage row. */
export interface BilledRoutedJob extends RoutedJob {
  apiKeyId: string;
  billing?: JobBilling;
}

/** How long the set of models live workers serve is reused before it is read again, ms. */
const SERVED_TTL_MS = 1_000;
/** A model missing from that set is looked up again after this long at most, ms. */
const SERVED_MISS_TTL_MS = 200;
/** How often queued requests are checked for a model no live worker serves any more, ms. */
const UNSERVED_SWEEP_MS = 2_000;

/**
 * Puts an admitted request's job on its tenant's queue, for every endpoint: the reply address,
 * the tenant's share, the queue deadline; and when the queue is unavailable, a 503 that gives
 * the admission back.
 */
@Injectable()
export class JobDispatch {
  private readonly logger = new Logger(JobDispatch.name);

  private served: { at: number; models: Set<string> } | null = null;
  private reading: Promise<Set<string>> | null = null;
  /** Deadlines of the requests queued from here and not ended, with their models. */
  private readonly waiting = new Map<QueueDeadline, string>();
  private sweeper: NodeJS.Timeout | undefined;
  /**
   * Until when presence is not trusted to say a worker is gone: no worker could refresh its
   * key while Redis was away, so after an outage each gets one presence lifetime to do so.
   */
  private presenceStaleUntil = 0;

  constructor(
    private readonly config: GatewayConfig,
    private readonly registry: RequestRegistry,
    private readonly admission: AdmissionService,
    private readonly presence: WorkerPresenceService,
    private readonly redis: RedisConnection,
    private readonly metrics: GatewayMetrics,
    private readonly billing: BillingRepository,
  ) {
    // Back after an outage: the jobs it may have lost end their requests at once.
    let lost = false;
    redis.client.on('close', () => (lost = true));
    redis.client.on('ready', () => {
      if (!lost) return;
      lost = false;
      this.presenceStaleUntil = Date.now() + WORKER_PRESENCE_TTL_S * 1000;
      if (this.waiting.size > 0)
        this.logger.warn(
          { queued: this.waiting.size },
          'Redis is back; checking queued requests',
        );
      for (const deadline of this.waiting.keys()) deadline.recheck();
    });
  }

  /**
   * Fails fast when no live worker serves `model`: a request would only wait out the queue
   * timeout. Call before admission, so nothing is reserved for it.
   *
   * @throws ApiError 503 `no_worker_available` (with `retry-after`).
   */
  async ensureServed(model: string): Promise<void> {
    const served = await this.servedModels(model).catch(
      this.metrics.failures.replace(
        'presence.read',
        () =>
          ApiError.unavailable(
            'The request queue is unavailable; try again shortly.',
            'queue_unavailable',
          ),
        { model },
      ),
    );
    if (!served.has(model)) {
      throw ApiError.unavailable(
        `No worker is serving the model ${model} right now; try again shortly.`,
        'no_worker_available',
        5,
      );
    }
  }

  /** The models live workers serve (cached; a model missing is looked up again sooner). */
  private async servedModels(model: string): Promise<Set<string>> {
    const now = Date.now();
    const cached = this.served;
    const fresh =
      cached &&
      now - cached.at <
        (cached.models.has(model) ? SERVED_TTL_MS : SERVED_MISS_TTL_MS);
    if (fresh) return cached.models;
    // Requests that find it stale together share one read.
    this.reading ??= this.presence
      .live()
      .then((live) => {
        this.served = {
          at: Date.now(),
          models: new Set(live.flatMap((w) => w.models)),
        };
        return this.served.models;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  /** Queued requests of models no live worker serves any more end now, not at the timeout. */
  private async sweepUnserved(): Promise<void> {
    if (Date.now() < this.presenceStaleUntil) return;
    for (const [deadline, model] of this.waiting) {
      const served = await this.servedModels(model).catch(
        this.metrics.failures.fallback('presence.read', null, { model }),
      );
      if (served && !served.has(model)) deadline.expireNow();
    }
  }

  /**
   * Writes the usage row of a request answered "not run, try again" whose job may still be
   * queued, with no tokens and no cost. Usage rows are unique per request, so a worker's count
   * of that job, should it run, settles as nothing: the client's retry is the one billed.
   * PostgreSQL down too: reported, and the request is answered all the same.
   */
  private async settleRefused(
    job: BilledRoutedJob,
    endpoint: string,
  ): Promise<void> {
    if (!job.billing) return;
    await this.billing
      .settleMany([
        {
          requestId: job.requestId,
          tenantId: job.tenantId,
          apiKeyId: job.apiKeyId,
          modelId: job.billing.modelId,
          endpoint,
          promptTokens: 0,
          completionTokens: 0,
          finishReason: 'queue_unavailable',
          costMicros: 0n,
        },
      ])
      .catch(
        this.metrics.failures.fallback('refusal.settle', undefined, {
          requestId: job.requestId,
        }),
      );
  }

  /**
   * The worker running a request was lost before it streamed: its job may run again elsewhere
   * (it was claimed by that worker's run, see `jobRunKey`), and its deadline watches it again.
   */
  async requeued(requestId: string, deadline: QueueDeadline): Promise<void> {
    deadline.restart();
    try {
      await this.redis.client.del(jobRunKey(requestId));
    } catch (error) {
      this.logger.error(
        { requestId, err: String(error) },
        "a lost worker's run claim stays; the request ends as worker_lost",
      );
    }
  }

  /**
   * Enqueues `job` (the request's registry channel must be open) and starts its queue deadline;
   * clear that when the request ends.
   *
   * @throws ApiError 503 `queue_unavailable` when the job could not be queued.
   */
  async dispatch<T extends BilledRoutedJob & JobAddress>(
    queue: TenantQueues<T>,
    job: Omit<T, keyof JobAddress>,
    endpoint: string,
    principal: Principal,
    admission: Admission,
    started: () => boolean,
  ): Promise<QueueDeadline> {
    try {
      await queue.enqueue(
        {
          ...job,
          replyTo: {
            gatewayId: this.config.gatewayId,
            address: this.config.grpcAdvertiseAddress,
          },
          enqueuedAt: Date.now(),
        } as T,
        { tier: principal.priorityTier, weight: principal.fairnessWeight },
      );
    } catch (error) {
      // The job may be on its queue all the same (Redis took the write, then the reply was
      // lost): settle it now, at nothing, so that if a worker runs it later it is not billed.
      await this.settleRefused(job, endpoint);
      this.registry.fail(
        job.requestId,
        failure('queue_unavailable', 'queue unavailable'),
      );
      await this.admission.end(admission, { action: 'release' }).catch(
        this.metrics.failures.fallback('admission.release', undefined, {
          requestId: job.requestId,
        }),
      );
      this.logger.error(
        { requestId: job.requestId, err: String(error) },
        'enqueue failed',
      );
      throw ApiError.unavailable(
        'The request queue is unavailable; try again shortly.',
        'queue_unavailable',
      );
    }
    const deadline = queueDeadline({
      timeoutMs: this.config.queueTimeoutMs,
      started,
      withdraw: () => queue.withdraw(job.model, job.tenantId, job.requestId),
      exists: () => queue.exists(job.model, job.tenantId, job.requestId),
      fail: (event) => {
        // Lost from its queue, as far as Redis says: settled at nothing before the answer too.
        if (event.code !== 'queue_unavailable')
          return this.registry.fail(job.requestId, event);
        void this.settleRefused(job, endpoint).then(() =>
          this.registry.fail(job.requestId, event),
        );
      },
      onError: (operation, error) =>
        this.metrics.failures.report(`queue.${operation}`, error, {
          requestId: job.requestId,
          model: job.model,
        }),
    });
    this.waiting.set(deadline, job.model);
    this.sweeper ??= setInterval(() => {
      if (this.waiting.size === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      } else void this.sweepUnserved();
    }, UNSERVED_SWEEP_MS);
    this.sweeper.unref();
    return {
      ...deadline,
      clear: () => {
        this.waiting.delete(deadline);
        deadline.clear();
      },
    };
  }
}
