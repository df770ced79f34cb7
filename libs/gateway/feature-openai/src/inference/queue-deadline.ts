import type { WithdrawOutcome } from '@marquee/gateway/data-access-queue';
import { type FailedEvent, failure } from './request-accounting.service';

/** How often a job a worker holds without having started it is looked at again, at most. */
const RECHECK_MS = 5_000;
/**
 * A job found gone is looked at once more after this long (at most) before the request ends: a
 * worker that just finished it may have removed it before its report reached this gateway.
 */
const GONE_GRACE_MS = 2_000;

export interface QueueDeadlineOptions {
  timeoutMs: number;
  /** Whether a worker has reported the request started. */
  started: () => boolean;
  withdraw: () => Promise<WithdrawOutcome>;
  /** Whether the job is still queued or held by a worker (not ended, not lost), without touching it. */
  exists: () => Promise<boolean>;
  /** Ends the request locally (no worker will report on it). */
  fail: (event: FailedEvent) => void;
  /**
   * A look at Redis failed (it was unreachable): the deadline acts as if a worker held the job
   * and looks again later; this reports the failure.
   */
  onError?: (operation: 'withdraw' | 'exists', error: unknown) => void;
}

/**
 * The queue timeout of one request. At `timeoutMs`, unless a worker has started it, the job is
 * taken back (503 `no_worker_available`). A job a worker holds without starting it (a worker
 * that died holding its lock, whose job BullMQ's stalled check hands back or fails) is looked at
 * again until it is started, taken back or gone; a job still gone, without any report, after a
 * short grace ends the request with `worker_lost`. So a request never waits forever for a report
 * that cannot come.
 */
export interface QueueDeadline {
  /** Stops watching (the request ended). */
  clear(): void;
  /**
   * The client went away: unless a worker has started the request, takes its job back and ends
   * it as `cancelled` (also when the job is gone; not when a worker holds it and will report).
   */
  cancel(): void;
  /**
   * Redis came back after an outage: a job it lost (a Redis without persistence forgets its
   * queues) ends its request at once, as `queue_unavailable` (not run, not billed), instead of
   * at the queue timeout.
   */
  recheck(): void;
  /** No live worker serves the model any more: the timeout comes now (503 unless a worker holds the job). */
  expireNow(): void;
  /**
   * The worker that started the request was lost before it streamed: watch the job again, for a
   * full queue timeout, while BullMQ's stalled check hands it to another worker. Meanwhile the
   * job is looked at every few seconds: one that stays gone (its lost worker's run ended it)
   * ends the request as `worker_lost`.
   */
  restart(): void;
}

export function queueDeadline(options: QueueDeadlineOptions): QueueDeadline {
  let timer: NodeJS.Timeout | undefined;
  let cleared = false;
  let goneBefore = false;
  const withdraw = () =>
    options.withdraw().catch((error: unknown) => {
      options.onError?.('withdraw', error);
      return 'taken' as const;
    });
  // Unknown counts as present: the job is not declared lost on a failed look.
  const exists = () =>
    options.exists().catch((error: unknown) => {
      options.onError?.('exists', error);
      return true;
    });
  const check = async () => {
    if (cleared || options.started()) return;
    // Redis unreachable: look again later, as for a job a worker holds.
    const outcome = await withdraw();
    if (cleared || options.started()) return;
    if (outcome === 'withdrawn')
      options.fail(
        failure('no_worker_available', 'No worker took the request in time.'),
      );
    else if (outcome === 'gone' && goneBefore)
      options.fail(
        failure('worker_lost', 'The worker running the request was lost.'),
      );
    else if (outcome === 'gone') {
      goneBefore = true;
      arm(Math.min(options.timeoutMs, GONE_GRACE_MS));
    } else arm(Math.min(options.timeoutMs, RECHECK_MS));
  };
  const arm = (ms: number) => {
    timer = setTimeout(() => void check(), ms);
    timer.unref();
  };
  arm(options.timeoutMs);
  let probe: NodeJS.Timeout | undefined;
  const watchRequeue = () => {
    let misses = 0;
    clearInterval(probe);
    probe = setInterval(
      () => {
        if (cleared || options.started()) return clearInterval(probe);
        void exists().then((present) => {
          misses = present ? 0 : misses + 1;
          if (misses >= 2 && !cleared && !options.started()) {
            clearInterval(probe);
            options.fail(
              failure(
                'worker_lost',
                'The worker running the request was lost.',
              ),
            );
          }
        });
      },
      Math.min(options.timeoutMs, RECHECK_MS),
    );
    probe.unref();
  };
  return {
    restart: () => {
      if (cleared) return;
      clearTimeout(timer);
      goneBefore = false;
      arm(options.timeoutMs);
      watchRequeue();
    },
    clear: () => {
      cleared = true;
      clearTimeout(timer);
      clearInterval(probe);
    },
    expireNow: () => {
      if (cleared || options.started()) return;
      clearTimeout(timer);
      void check();
    },
    recheck: () => {
      const waiting = () => !cleared && !options.started();
      const present = exists;
      if (!waiting()) return;
      void (async () => {
        if (await present()) return;
        // A worker that just ended it may be reporting: look once more after a grace.
        await new Promise((resolve) => setTimeout(resolve, GONE_GRACE_MS));
        if (waiting() && !(await present()) && waiting())
          options.fail(
            failure(
              'queue_unavailable',
              'The request queue lost the request before a worker took it; it was not run or billed.',
            ),
          );
      })();
    },
    cancel: () => {
      if (options.started()) return;
      void withdraw().then((outcome) => {
        if (outcome !== 'taken')
          options.fail(failure('cancelled', 'The client disconnected.'));
      });
    },
  };
}
