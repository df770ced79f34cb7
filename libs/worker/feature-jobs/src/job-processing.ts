import type { Logger } from '@nestjs/common';
import type { WorkerMetrics } from '@marquee/shared/util-observability';
import { InferenceError } from '@marquee/worker/inference';
import type { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import { type Job, UnrecoverableError } from 'bullmq';
import type { z } from 'zod';
import { JobDrainer } from './job-drainer';
import type { EventSink, RecordUsage } from './run-job';
import type { BilledJob, UsageRecorder } from './usage-recorder.service';

/** What every queued job carries, whatever it asks the engine for. */
export interface QueuedJob {
  requestId: string;
  model: string;
  /** When the gateway queued it, Unix ms. */
  enqueuedAt: number;
  replyTo: { gatewayId: string; address: string };
}

/** What differs between the kinds of job: their payload, their model and how one runs. */
export interface JobKind<J extends QueuedJob, M> {
  /** The payload's schema: a job that does not match fails without a retry. */
  readonly schema: z.ZodType<J>;
  /** The loaded model the job asks for; undefined when this worker does not serve it. */
  model(job: J): M | undefined;
  /** The job as its usage entry needs it. */
  billed(job: J): BilledJob;
  /**
   * Runs the job, sending its events to `sink`, stopping early when `signal` aborts, and
   * recording its usage with `recordUsage` before its end is reported.
   */
  run(
    job: J,
    model: M,
    sink: EventSink,
    signal: AbortSignal,
    recordUsage: RecordUsage,
  ): Promise<void>;
}

/** A job to put back on its queue for another worker (shutdown before it streamed anything). */
export class HandBack extends Error {
  override readonly name = 'HandBack';
}

interface Running {
  abort: AbortController;
  address: string;
  gatewayId: string;
  /** Its gateway holds no such request: its output reaches nobody and is not billed. */
  unheld: boolean;
}

/**
 * The one way a worker processes a queued job, whatever its kind: checks the payload (BullMQ's
 * `UnrecoverableError` for one retrying will not fix), claims the run so a job lost with its
 * worker never runs twice, drops a job whose gateway is gone, runs it with a cancel signal the
 * gateway can fire, reports to the gateway that queued it, records usage unless the job was
 * handed back or its gateway no longer holds it, and counts it in the worker's metrics.
 */
export class JobProcessing<J extends QueuedJob, M> {
  private readonly active = new Map<string, Running>();
  private readonly drainer: JobDrainer;

  constructor(
    private readonly kind: JobKind<J, M>,
    private readonly deps: {
      links: GatewayLinkPool;
      recorder: UsageRecorder;
      logger: Logger;
      metrics?: WorkerMetrics;
    },
  ) {
    this.drainer = new JobDrainer(deps.metrics);
    deps.links.onCancel((requestId, unheld) => {
      const job = this.active.get(requestId);
      if (!job) return;
      if (unheld) job.unheld = true;
      job.abort.abort();
    });
    // The gateway holding these requests is gone (or its stream broke): nobody reads them.
    deps.links.onLinkClosed((address) => {
      const gateways = new Set<string>();
      for (const [requestId, job] of this.active) {
        if (job.address !== address) continue;
        deps.logger.warn({ requestId }, 'gateway link closed; stopping');
        job.abort.abort();
        gateways.add(job.gatewayId);
      }
      // Its jobs still queued wait for a sign of life before they run.
      for (const gatewayId of gateways)
        void deps.recorder
          .markGone(gatewayId)
          .catch((error: unknown) =>
            deps.logger.warn(
              { gatewayId, err: String(error) },
              'could not mark a gateway gone; its queued jobs run if its key lives',
            ),
          );
    });
  }

  /** Jobs running now. */
  get running(): number {
    return this.drainer.size;
  }

  /** Whether a job's failure means "put it back on its queue" (see {@link HandBack}). */
  static isHandBack(error: unknown): boolean {
    return error instanceof HandBack;
  }

  /**
   * Processes one job taken from its queue. `lockLost` aborts when this worker lost the job's
   * lock (another may run it): the run stops then, as for a cancel.
   *
   * @throws UnrecoverableError when the payload is invalid, the model is not served here, or
   *   the run failed (the client was told why); {@link HandBack} when the job must go back to
   *   its queue.
   */
  async process(job: Job<J>, lockLost?: AbortSignal): Promise<void> {
    const takenAt = performance.now();
    const parsed = this.kind.schema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(
        `invalid job payload: ${parsed.error.issues[0]?.message}`,
      );
    const payload = parsed.data;
    const model = this.kind.model(payload);
    if (!model)
      throw new UnrecoverableError(`model ${payload.model} is not served here`);
    if (!(await this.mayStart(payload))) return;
    const address = payload.replyTo.address;
    const link = this.deps.links.link(address);
    const abort = new AbortController();
    const running: Running = {
      abort,
      address,
      gatewayId: payload.replyTo.gatewayId,
      unheld: false,
    };
    this.active.set(payload.requestId, running);
    const stopOnLockLoss = () => {
      this.deps.logger.warn(
        { requestId: payload.requestId, model: payload.model },
        'job lock lost; stopping the run',
      );
      abort.abort();
    };
    if (lockLost?.aborted) stopOnLockLoss();
    else lockLost?.addEventListener('abort', stopOnLockLoss, { once: true });
    const tracked = this.drainer.track(payload, abort, link);
    // The gateway's stage breakdown tells this worker's pickup from the wait in the queue.
    const sink: EventSink = {
      send: (event, flushNow) =>
        tracked.sink.send(
          event.started
            ? {
                ...event,
                started: {
                  ...event.started,
                  pickupMs: performance.now() - takenAt,
                },
              }
            : event,
          flushNow,
        ),
    };
    try {
      await this.kind.run(
        payload,
        model,
        sink,
        abort.signal,
        // A job handed back is billed by the worker that runs it in the end; one whose gateway
        // had already answered its client (or never had it) is not billed at all.
        async (usage) => {
          if (tracked.handedBack) return;
          const billed = this.kind.billed(payload);
          if (running.unheld) await this.deps.recorder.dropped(billed);
          else await this.deps.recorder.record(billed, usage);
        },
      );
    } catch (error) {
      // Shutdown deadline, nothing streamed yet: back to the queue for another worker.
      if (tracked.handedBack) throw new HandBack(payload.requestId);
      const code = error instanceof InferenceError ? error.code : 'model_error';
      this.deps.logger.error(
        {
          requestId: payload.requestId,
          model: payload.model,
          err: (error as Error).message,
        },
        `request failed: ${code}`,
      );
      // The client was told; running it again would answer nobody.
      throw new UnrecoverableError(code);
    } finally {
      lockLost?.removeEventListener('abort', stopOnLockLoss);
      this.active.delete(payload.requestId);
      tracked.done();
      // Ended here (or handed back to run elsewhere): the claim is only for a job lost with its
      // worker, which BullMQ's stalled check may bring back.
      const unclaimed = this.deps.recorder
        .unclaimRun(payload.requestId)
        .catch((e: unknown) =>
          this.deps.logger.warn(
            { requestId: payload.requestId, err: String(e) },
            tracked.handedBack
              ? 'handed-back job keeps its run claim; it will not run again'
              : 'run claim left to expire',
          ),
        );
      // A job handed back must be free to run elsewhere before it is back in its queue.
      if (tracked.handedBack) await unclaimed;
    }
  }

  /**
   * The drain deadline: aborts what still runs. Jobs that streamed nothing go back to their
   * queue; the others end as `worker_lost` with what they delivered billed.
   */
  abortAll(): void {
    const { handedBack, lost } = this.drainer.abortAll();
    if (handedBack + lost > 0)
      this.deps.logger.warn({ handedBack, lost }, 'drain deadline reached');
  }

  /**
   * Whether to run a job taken from the queue: not when the gateway that queued it is gone
   * (dropped, its admission given back), nor when a lost worker already started it (its client
   * was told `worker_lost`; running it again would bill it twice). Redis unreachable: the job
   * goes back to its queue.
   */
  private async mayStart(payload: J): Promise<boolean> {
    const { requestId } = payload;
    const gatewayId = payload.replyTo.gatewayId;
    const { recorder, logger } = this.deps;
    try {
      // One round trip when all is well; a requester that looks gone gets a grace.
      const { claimed, alive } = await recorder.claimIfAlive(
        requestId,
        gatewayId,
      );
      if (!claimed) {
        logger.warn(
          { requestId },
          'job already started by a lost worker; not run twice',
        );
        return false;
      }
      if (alive || (await recorder.requesterAlive(gatewayId))) return true;
      logger.warn(
        { requestId, gateway: gatewayId },
        'the gateway that queued the job is gone; dropped',
      );
      await recorder.unclaimRun(requestId);
      await recorder.dropped(this.kind.billed(payload));
      return false;
    } catch (error) {
      logger.warn(
        { requestId, err: String(error) },
        'cannot check the job; handed back',
      );
      throw new HandBack(requestId);
    }
  }
}
