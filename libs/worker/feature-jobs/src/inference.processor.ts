import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import type { RequestFailureCode } from '@marquee/contracts/proto';
import {
  type InferenceJob,
  inferenceJobSchema,
} from '@marquee/contracts/queue';
import { WorkerMetrics } from '@marquee/shared/util-observability';
import { InferenceError, type TextGenerator } from '@marquee/worker/inference';
import { FairConsumers } from '@marquee/worker/feature-fair-queue';
import { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import { WorkerConfig } from '@marquee/worker/util-config';
import type { Job } from 'bullmq';
import { JobDrainer } from './job-drainer';
import { reportQueueProblems } from './queue-problems';
import { ModelHost } from './model-host.service';
import { type EventSink, runJob } from './run-job';
import { UsageRecorder } from './usage-recorder.service';
import { WorkerPresenceReporter } from './worker-presence.reporter';

/** A job to put back on its queue for another worker (shutdown before it streamed anything). */
class HandBack extends Error {}

/** A job that retrying cannot fix. */
class JobFailed extends Error {}

/**
 * Consumes the queues of the models this worker serves and runs each job in the engine,
 * reporting to the gateway named in the job. Jobs come from the tenants' queues in fair order
 * (tier, then weighted round-robin); up to a batch's worth per model run at once, and the
 * model's scheduler batches them step by step.
 */
@Injectable()
export class InferenceProcessor
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(InferenceProcessor.name);
  private readonly consumers: FairConsumers<InferenceJob>;
  /** Running jobs: how to stop each, and the gateway it reports to. */
  private readonly active = new Map<
    string,
    {
      abort: AbortController;
      address: string;
      gatewayId: string;
      /** Its gateway holds no such request: its output reaches nobody and is not billed. */
      unheld: boolean;
    }
  >();
  private readonly drainer: JobDrainer;
  private draining = false;

  constructor(
    private readonly config: WorkerConfig,
    private readonly host: ModelHost,
    private readonly links: GatewayLinkPool,
    private readonly recorder: UsageRecorder,
    presence: WorkerPresenceReporter,
    @Optional() metrics?: WorkerMetrics,
  ) {
    this.drainer = new JobDrainer(metrics);
    this.consumers = new FairConsumers<InferenceJob>({
      redisUrl: config.redisUrl,
      handle: (job) => this.process(job),
      handBack: (error) => error instanceof HandBack,
      onError: (error) => this.logger.warn(`queue: ${error.message}`),
      onProblem: reportQueueProblems(this.logger, metrics),
    });
    links.onCancel((requestId, unheld) => {
      const job = this.active.get(requestId);
      if (!job) return;
      if (unheld) job.unheld = true;
      job.abort.abort();
    });
    // The gateway holding these requests is gone (or its stream broke): nobody reads them.
    links.onLinkClosed((address) => {
      const gateways = new Set<string>();
      for (const [requestId, job] of this.active) {
        if (job.address !== address) continue;
        this.logger.warn({ requestId }, 'gateway link closed; stopping');
        job.abort.abort();
        gateways.add(job.gatewayId);
      }
      // Its jobs still queued wait for a sign of life before they run.
      for (const gatewayId of gateways)
        void this.recorder
          .markGone(gatewayId)
          .catch((error: unknown) =>
            this.logger.warn(
              { gatewayId, err: String(error) },
              'could not mark a gateway gone; its queued jobs run if its key lives',
            ),
          );
    });
    links.reportActiveRequests(() => this.active.size);
    presence.countRunning(() => this.active.size);
  }

  onApplicationBootstrap(): void {
    for (const model of this.host.names) this.serve(model);
  }

  /** Starts taking jobs for a text-generation model of the host (no-op if already, or draining). */
  serve(model: string): void {
    if (this.draining) return;
    // As many jobs in flight as the model's batch holds: they all share its scheduler.
    this.consumers.serve(model, this.host.concurrency(model));
  }

  /**
   * Stops taking jobs for `model` and resolves once its running jobs have finished (jobs still
   * queued stay there for other workers). The caller then frees the model.
   */
  retire(model: string): Promise<void> {
    return this.consumers.retire(model);
  }

  private async process(job: Job<InferenceJob>): Promise<void> {
    const takenAt = performance.now();
    const parsed = inferenceJobSchema.safeParse(job.data);
    if (!parsed.success)
      throw new JobFailed(
        `invalid job payload: ${parsed.error.issues[0]?.message}`,
      );
    const payload = parsed.data;
    const generator = this.host.get(payload.model);
    if (!generator)
      throw new JobFailed(`model ${payload.model} is not served here`);
    if (!(await this.mayStart(payload))) return;
    const address = payload.replyTo.address;
    const link = this.links.link(address);
    const abort = new AbortController();
    const running = {
      abort,
      address,
      gatewayId: payload.replyTo.gatewayId,
      unheld: false,
    };
    this.active.set(payload.requestId, running);
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
      await runJob(
        payload,
        generator as TextGenerator,
        sink,
        this.config.workerId,
        abort.signal,
        // A job handed back is billed by the worker that runs it in the end; one whose gateway
        // had already answered its client (or never had it) is not billed at all.
        async (usage) => {
          if (tracked.handedBack) return;
          if (running.unheld) await this.recorder.dropped(payload);
          else await this.recorder.record(payload, usage);
        },
      );
    } catch (error) {
      if (tracked.handedBack) {
        // Shutdown deadline, nothing streamed yet: back to the queue for another worker.
        throw new HandBack(payload.requestId);
      }
      const code: RequestFailureCode =
        error instanceof InferenceError ? error.code : 'model_error';
      this.logger.error(`request ${payload.requestId} failed: ${code}`);
      throw new JobFailed(code);
    } finally {
      this.active.delete(payload.requestId);
      tracked.done();
      // Ended here (or handed back to run elsewhere): the claim is only for a job lost with its
      // worker, which BullMQ's stalled check may bring back.
      const unclaimed = this.recorder
        .unclaimRun(payload.requestId)
        .catch((e: unknown) =>
          this.logger.warn(
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
   * Whether to run a job taken from the queue: not when the gateway that queued it is gone
   * (dropped, its admission given back), nor when a lost worker already started it (its client
   * was told `worker_lost`; running it again would bill it twice). Redis unreachable: the job
   * goes back to its queue.
   */
  private async mayStart(payload: InferenceJob): Promise<boolean> {
    const { requestId } = payload;
    const gatewayId = payload.replyTo.gatewayId;
    try {
      // One round trip when all is well; a requester that looks gone gets a grace.
      const { claimed, alive } = await this.recorder.claimIfAlive(
        requestId,
        gatewayId,
      );
      if (!claimed) {
        this.logger.warn(
          { requestId },
          'job already started by a lost worker; not run twice',
        );
        return false;
      }
      if (alive || (await this.recorder.requesterAlive(gatewayId))) return true;
      this.logger.warn(
        { requestId, gateway: gatewayId },
        'the gateway that queued the job is gone; dropped',
      );
      await this.recorder.unclaimRun(requestId);
      await this.recorder.dropped(payload);
      return false;
    } catch (error) {
      this.logger.warn(
        { requestId, err: String(error) },
        'cannot check the job; handed back',
      );
      throw new HandBack(requestId);
    }
  }

  /**
   * Stops taking jobs and lets running ones finish; at `graceMs` the rest are handed back to
   * the queue (or end as `worker_lost` if they already streamed). Call before closing the app.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    const closing = this.consumers.stop();
    const deadline = setTimeout(() => {
      const { handedBack, lost } = this.drainer.abortAll();
      if (handedBack + lost > 0)
        this.logger.warn({ handedBack, lost }, 'drain deadline reached');
    }, graceMs);
    await closing;
    clearTimeout(deadline);
  }

  /** Jobs running on this worker now. */
  get running(): number {
    return this.drainer.size;
  }

  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    await this.consumers.close();
    await this.host.dispose();
  }
}
