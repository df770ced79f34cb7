import { Injectable, Logger } from '@nestjs/common';
import type {
  RoutedJob,
  TenantQueues,
} from '@marquee/gateway/data-access-queue';
import {
  type Admission,
  AdmissionService,
} from '@marquee/gateway/feature-quotas';
import { RequestRegistry } from '@marquee/gateway/transport-grpc';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { ApiError, type Principal } from '@marquee/gateway/util-http';
import { type QueueDeadline, queueDeadline } from './queue-deadline';
import { failure } from './request-accounting.service';

/** Where a worker reports a job of this gateway, and when it was queued. */
export interface JobAddress {
  replyTo: { gatewayId: string; address: string };
  enqueuedAt: number;
}

/**
 * Puts an admitted request's job on its tenant's queue, for every endpoint: the reply address,
 * the tenant's share, the queue deadline; and when the queue is unavailable, a 503 that gives
 * the admission back.
 */
@Injectable()
export class JobDispatch {
  private readonly logger = new Logger(JobDispatch.name);

  constructor(
    private readonly config: GatewayConfig,
    private readonly registry: RequestRegistry,
    private readonly admission: AdmissionService,
  ) {}

  /**
   * Enqueues `job` (the request's registry channel must be open) and starts its queue deadline;
   * clear that when the request ends.
   *
   * @throws ApiError 503 `queue_unavailable` when the job could not be queued.
   */
  async dispatch<T extends RoutedJob & JobAddress>(
    queue: TenantQueues<T>,
    job: Omit<T, keyof JobAddress>,
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
      this.registry.fail(
        job.requestId,
        failure('queue_unavailable', 'queue unavailable'),
      );
      await this.admission.settle(admission, 0, 0n).catch(() => undefined);
      this.logger.error(
        { requestId: job.requestId, err: String(error) },
        'enqueue failed',
      );
      throw ApiError.unavailable(
        'The request queue is unavailable; try again shortly.',
        'queue_unavailable',
      );
    }
    return queueDeadline({
      timeoutMs: this.config.queueTimeoutMs,
      started,
      withdraw: () => queue.withdraw(job.model, job.tenantId, job.requestId),
      fail: (event) => this.registry.fail(job.requestId, event),
    });
  }
}
