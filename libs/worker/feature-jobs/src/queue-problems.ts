import type { Logger } from '@nestjs/common';
import type { WorkerMetrics } from '@marquee/shared/util-observability';
import type { QueueProblem } from '@marquee/worker/feature-fair-queue';

/** What the intake handled on its own, logged once with its context and counted by kind. */
export function reportQueueProblems(
  logger: Logger,
  metrics: WorkerMetrics | undefined,
): (problem: QueueProblem) => void {
  return ({ kind, model, tenantId, jobId, error }) => {
    metrics?.queueProblems.inc({ model, kind });
    logger.warn(
      {
        kind,
        model,
        tenantId,
        jobId,
        ...(error === undefined ? {} : { err: String(error) }),
      },
      'job intake problem (handled)',
    );
  };
}
