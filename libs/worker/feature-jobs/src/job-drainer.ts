import { Logger } from '@nestjs/common';
import {
  FailureCode,
  type RequestEventMessage,
} from '@marquee/contracts/proto';
import type { InferenceJob } from '@marquee/contracts/queue';
import type { WorkerMetrics } from '@marquee/shared/util-observability';
import type { EventSink } from './run-job';

/** What happens to a job cut short by shutdown. */
type Fate = 'hand_back' | 'lost';

/** One running job, as the drainer follows it. */
export interface TrackedJob {
  /** The job's events pass through here on their way to the gateway. */
  readonly sink: EventSink;
  /** True once shutdown aborted it before any token went out: re-queue it. */
  readonly handedBack: boolean;
  /** Call when the job's processing ends, however it ends. */
  done(): void;
}

interface Running {
  model: string;
  abort: AbortController;
  streamed: boolean;
  fate: Fate | null;
}

/**
 * Follows the jobs running on this worker for metrics and for shutdown. At the drain deadline
 * it aborts what is still running: a job that has sent no token yet is handed back to the
 * queue (another worker runs it; the client notices nothing), while one that already streamed
 * tokens ends as `worker_lost` with what it delivered billed, as for a worker that died.
 */
export class JobDrainer {
  private readonly logger = new Logger(JobDrainer.name);
  private readonly running = new Map<string, Running>();

  constructor(private readonly metrics?: WorkerMetrics) {}

  get size(): number {
    return this.running.size;
  }

  track(
    job: Pick<InferenceJob, 'requestId' | 'model' | 'enqueuedAt'>,
    abort: AbortController,
    target: EventSink,
  ): TrackedJob {
    const entry: Running = {
      model: job.model,
      abort,
      streamed: false,
      fate: null,
    };
    const startedAt = Date.now();
    let outcome: 'completed' | 'failed' = 'failed';
    this.running.set(job.requestId, entry);
    this.metrics?.jobStarted(job.model, job.enqueuedAt);
    const sink: EventSink = {
      send: (event: RequestEventMessage, flushNow?: boolean) => {
        if (entry.fate === 'hand_back') {
          // The next worker reports from the start: this one's failure stays unsaid.
          if (event.failed) return;
          // A step already under way still delivered output: too late to hand back.
          if (event.tokens) entry.fate = 'lost';
          if (event.finished) entry.fate = null;
        }
        if (event.tokens) {
          entry.streamed = true;
          this.metrics?.tokensGenerated.inc(
            { model: job.model },
            event.tokens.tokens,
          );
        }
        if (event.finished) outcome = 'completed';
        if (event.failed && entry.fate === 'lost')
          event = {
            ...event,
            failed: {
              ...event.failed,
              code: FailureCode.WORKER_LOST,
              message: 'The worker shut down before the request finished.',
            },
          };
        target.send(event, flushNow);
      },
    };
    return {
      sink,
      get handedBack() {
        return entry.fate === 'hand_back';
      },
      done: () => {
        this.running.delete(job.requestId);
        this.metrics?.jobEnded(
          job.model,
          entry.fate === 'hand_back' ? 'handed_back' : outcome,
          startedAt,
        );
      },
    };
  }

  /** The drain deadline: aborts every running job; returns how many were handed back. */
  abortAll(): { handedBack: number; lost: number } {
    let handedBack = 0;
    let lost = 0;
    for (const [requestId, entry] of this.running) {
      entry.fate = entry.streamed ? 'lost' : 'hand_back';
      if (entry.fate === 'hand_back') handedBack += 1;
      else lost += 1;
      this.logger.warn(
        { requestId, model: entry.model, fate: entry.fate },
        'shutdown deadline: stopping a running request',
      );
      entry.abort.abort();
    }
    return { handedBack, lost };
  }
}
