import { randomUUID } from 'node:crypto';
import {
  DROP_IF_EMPTY_SCRIPT,
  type LuaCommand,
  luaCommand,
  MARK_IF_WAITING_SCRIPT,
  QUEUE_PREFIX,
  type TenantShare,
  decodeTenantShare,
  fairBellKey,
  fairReadyKey,
  fairTenantsKey,
  tenantQueueName,
  tenantWaitKeys,
} from '@marquee/contracts/queue';
import {
  type BackendFactory,
  createRedisBackend,
  type Job,
  type RedisQueueBackend,
  Worker,
} from 'bullmq';
import type { Redis } from 'ioredis';
import { DeficitRoundRobin } from './deficit-round-robin';

/** Bell entries taken per look: any number means "something was enqueued". */
const BELL_DRAIN = 64;
/** The most jobs one look takes from a lone busy tenant at once. */
const MAX_BURST = 64;

export interface FairJobSourceOptions {
  model: string;
  /** Commands (job fetches, tenant list). BullMQ duplicates it where it needs blocking calls. */
  connection: Redis;
  /** A connection of its own for waiting on the bell (blocking). */
  bellConnection: Redis;
  /**
   * A job's lock lives this long unless renewed (renewed every half), ms; a dead worker's jobs
   * go back to their queue within about one and a half of it. Default 8 s.
   */
  lockDurationMs?: number;
  /** The tenant list is re-read at least this often, and whenever the bell rang, ms. Default 1 s. */
  refreshMs?: number;
  /**
   * Sweeps look only at tenants marked ready; this often, a marking pass looks at every tenant
   * for jobs back in a queue without a mark (stalled jobs of a crashed worker), ms. Default 30 s.
   */
  fullSweepMs?: number;
  /** Told of each problem the intake handled on its own (see {@link QueueProblem}). */
  onProblem?: (problem: QueueProblem) => void;
}

/**
 * BullMQ gives each Worker two connections of its own (a copy of the one passed and one for
 * blocking waits): two new connections, and a first job tens of milliseconds late, for every
 * tenant a worker meets. Ours never block (the bell does the waiting, and jobs are taken with
 * `block: false`), so every tenant's Worker works on the source's one command connection.
 */
const sharedConnectionBackend: BackendFactory<RedisQueueBackend> = (
  name,
  opts,
) =>
  createRedisBackend(name, opts, {
    blocking: false,
    withBlockingConnection: false,
  });

/**
 * Something that went wrong in the intake and was handled (retried, or left to a later pass),
 * for the worker to log and count: nothing here is dropped silently.
 */
export interface QueueProblem {
  kind:
    | 'lock_renewal_failed' // Redis refused or was down; the next renewal tries again
    | 'lock_lost' // another worker's stalled check took the job back; its run claim keeps it from running twice
    | 'job_settle_failed' // completing, failing or handing back a job failed; its lock lapses and it comes back
    | 'marking_failed' // the periodic marking pass failed; the next one runs at the next look
    | 'stalled_ring_failed' // a job put back by the stalled check was not announced; the marking pass finds it
    | 'queue_error'; // BullMQ reported an error on a tenant's queue
  model: string;
  tenantId?: string;
  jobId?: string;
  error?: unknown;
}

/** A job taken from a tenant's queue; finish it exactly once. */
export interface FairJob<T> {
  readonly job: Job<T>;
  readonly tenantId: string;
  complete(): Promise<void>;
  /** Fails the job for good (retrying would not help) or, with `retry`, hands it back to its queue. */
  fail(error: Error, retry?: boolean): Promise<void>;
}

/**
 * Where a worker gets its next job for a model: from the per-tenant queues, picking tenants by
 * tier then weighted deficit round-robin, instead of first come first served. Each slot of the
 * worker calls {@link next}; while slots wait, one loop takes jobs for them, sleeping on the
 * model's bell when there are none until a gateway rings it.
 */
export class FairJobSource<T> {
  private readonly drr = new DeficitRoundRobin();
  private readonly workers = new Map<string, Worker<T>>();
  private refreshedAt = 0;
  /** Bumped whenever work may have appeared: a bell rang, a job was handed back or found idle. */
  private generation = 0;
  /** The generation at which a sweep of every tenant last found nothing, and when it began. */
  private emptyGeneration = -1;
  private idleSweepAt = 0;
  private closed = false;
  private readonly lockDurationMs: number;
  private readonly refreshMs: number;
  private readonly fullSweepMs: number;
  /** Tenants that may have jobs queued (the model's ready set, as last read and since updated). */
  private ready = new Set<string>();
  /** When the last marking pass ran (0: at the first look, so a restarted worker catches up). */
  private markedAt = 0;
  /** The generation the tenant list was last read at (a ring bumps it). */
  private refreshedGeneration = -1;
  /** Slots waiting for a job, first in line first. */
  private readonly waiters: {
    resolve: (job: FairJob<T> | null) => void;
    reject: (error: Error) => void;
  }[] = [];
  /** How many jobs the next look at a lone busy tenant asks for (see {@link sweep}). */
  private burst = 1;
  /** The fetch loop, while one runs. */
  private fetching: Promise<void> | null = null;

  private readonly dropScript: LuaCommand;

  constructor(private readonly options: FairJobSourceOptions) {
    this.dropScript = luaCommand(
      options.connection,
      'mqDropIfEmpty',
      DROP_IF_EMPTY_SCRIPT,
      5,
    );
    this.lockDurationMs = options.lockDurationMs ?? 8_000;
    this.refreshMs = options.refreshMs ?? 1_000;
    this.fullSweepMs = options.fullSweepMs ?? 30_000;
  }

  /**
   * The next job by fair order, waiting for one; null once closed. Slots wait in line and one
   * fetch loop serves them in turn, so a job wakes one look at the queues, not one per idle slot.
   */
  next(): Promise<FairJob<T> | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.fetching ??= this.fetch();
    });
  }

  /**
   * Takes jobs for the waiting slots, first in line first, until none waits.
   *
   * Sweeps look only at tenants marked ready. After a sweep found nothing, the loop waits on the
   * bell, and one sweep per `refreshMs` looks again. Any ring starts a sweep at once, over a
   * tenant list read after the ring. Every `fullSweepMs`, a marking pass over every known tenant
   * marks those with jobs waiting but no mark (stalled jobs of a crashed worker). A Redis error
   * fails every waiting slot's look (each retries); a stop ends the loop, and the slots still in
   * line get null.
   */
  private async fetch(): Promise<void> {
    try {
      // Just woken by the bell: its ring is heard already, and rings that came with it wait for
      // the next look (saves a round trip on the quiet path).
      let woke = false;
      while (!this.closed && this.waiters.length > 0) {
        // Every enqueue rings the bell, so a tenant that just arrived is a candidate at once.
        // Rings stand for jobs: take no more than this worker has slots waiting, and leave the
        // rest to other workers.
        const rang = woke
          ? null
          : await this.options.connection.lpop(
              fairBellKey(this.options.model),
              Math.min(BELL_DRAIN, this.waiters.length),
            );
        woke = false;
        if (rang?.length) {
          this.generation++;
          this.hear(rang);
        }
        let now = Date.now();
        if (now - this.markedAt >= this.fullSweepMs) await this.markWaiting();
        const idle = this.generation === this.emptyGeneration;
        if (idle && now - this.idleSweepAt < this.refreshMs) {
          woke = await this.bell();
          continue;
        }
        if (idle) this.idleSweepAt = now; // this look is the period's sweep
        // The list must be newer than the last ring: its tenant may be marked only since.
        if (
          this.refreshedGeneration !== this.generation ||
          now - this.refreshedAt >= this.refreshMs
        )
          await this.refresh();
        now = Date.now();
        const generation = this.generation;
        if ((await this.sweep()) > 0) {
          // Found while idle (a job back from a crashed worker): more may be, look again.
          if (idle) this.generation++;
          // The jobs just handed out send their first commands before the next look does.
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        // A ring during the sweep (its job may sit in a queue swept before it came): look again.
        if (this.generation !== generation) continue;
        this.emptyGeneration = generation;
        if (!idle) this.idleSweepAt = now;
        // Nothing queued anywhere: sleep until a gateway rings (or a second passes).
        woke = await this.bell();
      }
    } catch (error) {
      for (const waiter of this.waiters.splice(0))
        waiter.reject(error as Error);
    } finally {
      this.fetching = null;
      if (this.closed)
        for (const waiter of this.waiters.splice(0)) waiter.resolve(null);
      // A slot that came in line as the loop ended (or after an error) starts the next one.
      else if (this.waiters.length > 0) this.fetching = this.fetch();
    }
  }

  /**
   * One pass over the candidates in fair order, handing what it finds to the slots in line;
   * returns how many jobs it handed out. It takes one job at a time, except when a single tenant
   * has work: then fairness has no one else to serve, and it takes jobs for several waiting slots
   * at once (their fetches share one round trip), twice as many each time the queue had them all.
   */
  private async sweep(): Promise<number> {
    const candidates = this.drr.candidates();
    const ready = candidates.filter((id) => this.ready.has(id)).length;
    for (const tenantId of candidates) {
      if (!this.ready.has(tenantId)) {
        this.drr.idle(tenantId); // no credit kept while it has nothing queued
        continue;
      }
      const wanted =
        ready === 1 ? Math.min(this.waiters.length, this.burst) : 1;
      const worker = this.worker(tenantId);
      const jobs = await Promise.all(
        Array.from({ length: wanted }, async () => {
          const token = randomUUID();
          const job = (await worker.getNextJob(token, { block: false })) as
            | Job<T>
            | undefined;
          return job ? this.take(job, tenantId, token) : null;
        }),
      );
      let handed = 0;
      for (const taken of jobs) {
        if (!taken) continue;
        this.drr.served(tenantId);
        this.waiters.shift()?.resolve(taken);
        handed++;
      }
      this.burst = handed === wanted ? Math.min(this.burst * 2, MAX_BURST) : 1;
      // Fewer than asked for: the queue ran dry.
      if (handed < wanted) {
        this.drr.idle(tenantId);
        await this.dropIfEmpty(tenantId);
      }
      if (handed > 0) return handed;
    }
    return 0;
  }

  /**
   * Rings name the tenants that queued a job (older gateways ring `1`): a tenant the round
   * knows is ready at once, with no re-read of the lists; any other ring asks for one.
   */
  private hear(rings: string[]): void {
    let known = true;
    for (const ring of rings) {
      if (this.drr.knows(ring)) this.ready.add(ring);
      else known = false;
    }
    if (known) this.refreshedGeneration = this.generation;
    else this.refreshedAt = 0;
  }

  /**
   * One unit of a worker's concurrency: takes the next fair job, hands it to `handle` and settles
   * it with the queue, until the source is stopped. When `handle` throws, the job fails for good,
   * unless `handBack` accepts the error: then it goes back to its queue for another worker.
   */
  async consume(
    handle: (job: Job<T>) => Promise<void>,
    options: {
      handBack?: (error: unknown) => boolean;
      /** Told when taking a job failed (Redis down); the slot retries after half a second. */
      onError?: (error: Error) => void;
    } = {},
  ): Promise<void> {
    for (;;) {
      const taken = await this.next().catch((error: Error) => {
        options.onError?.(error);
        return undefined;
      });
      if (taken === null) return;
      if (taken === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      try {
        await handle(taken.job);
        await taken.complete();
      } catch (error) {
        await taken
          .fail(error as Error, options.handBack?.(error) ?? false)
          .catch((settleError: unknown) =>
            this.problem('job_settle_failed', {
              tenantId: taken.tenantId,
              jobId: taken.job.id,
              error: settleError,
            }),
          );
      }
    }
  }

  private problem(
    kind: QueueProblem['kind'],
    details: Omit<QueueProblem, 'kind' | 'model'>,
  ): void {
    this.options.onProblem?.({ kind, model: this.options.model, ...details });
  }

  /**
   * One blocking wait on the bell (up to a second): whether it rang. An error reads as silence:
   * the loop's next look uses the command connection, and reports there if Redis is down.
   */
  private async bell(): Promise<boolean> {
    const rang = await this.options.bellConnection
      .blpop(fairBellKey(this.options.model), 1)
      .catch(() => null);
    if (!rang) return false;
    this.generation++;
    this.hear([rang[1]]);
    return true;
  }

  /** Hands out no more jobs ({@link next} returns null); jobs already taken can still finish. */
  stop(): void {
    this.closed = true;
  }

  /** Stops and releases the queue connections (after the taken jobs finished). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.workers.values()].map((w) => w.close()));
  }

  private take(job: Job<T>, tenantId: string, token: string): FairJob<T> {
    const renew = setInterval(() => {
      job.extendLock(token, this.lockDurationMs).then(
        (extended) => {
          if (extended === 0 && !done)
            this.problem('lock_lost', { tenantId, jobId: job.id });
        },
        (error: unknown) =>
          this.problem('lock_renewal_failed', {
            tenantId,
            jobId: job.id,
            error,
          }),
      );
    }, this.lockDurationMs / 2);
    renew.unref();
    let done = false;
    const finish = async (action: () => Promise<unknown>) => {
      if (done) return;
      done = true;
      clearInterval(renew);
      await action();
    };
    return {
      job,
      tenantId,
      complete: () => finish(() => job.moveToCompleted(null, token, false)),
      fail: (error, retry = false) =>
        finish(async () => {
          if (retry) {
            await job.moveToWait(token);
            // Back in its queue: mark the tenant ready again and ring.
            await this.options.connection
              .multi()
              .sadd(fairReadyKey(this.options.model), tenantId)
              .lpush(fairBellKey(this.options.model), tenantId)
              .exec();
          } else await job.moveToFailed(error, token, false);
        }),
    };
  }

  /** Reads the tenant list and the ready marks. */
  private async refresh(): Promise<void> {
    const generation = this.generation;
    await this.refreshTenants();
    this.refreshedGeneration = generation;
  }

  /**
   * Marks every known tenant that has jobs waiting but no mark, and makes sure each has a BullMQ
   * worker here, whose stalled check puts a crashed worker's jobs back in the queue.
   */
  private async markWaiting(): Promise<void> {
    this.markedAt = Date.now();
    const { connection, model } = this.options;
    try {
      const tenants = Object.keys(
        await connection.hgetall(fairTenantsKey(model)),
      );
      if (tenants.length === 0) return;
      for (const tenantId of tenants) this.worker(tenantId);
      const pipeline = connection.pipeline();
      for (const tenantId of tenants)
        pipeline.eval(
          MARK_IF_WAITING_SCRIPT,
          5,
          fairReadyKey(model),
          ...tenantWaitKeys(model, tenantId),
          tenantId,
        );
      const results = (await pipeline.exec()) ?? [];
      if (results.some(([, added]) => added === 1)) this.generation++;
    } catch (error) {
      this.problem('marking_failed', { error });
    }
  }

  private async refreshTenants(): Promise<void> {
    const [raw, ready] = await Promise.all([
      this.options.connection.hgetall(fairTenantsKey(this.options.model)),
      this.options.connection.smembers(fairReadyKey(this.options.model)),
    ]);
    const shares = new Map<string, TenantShare>(
      Object.entries(raw).map(([id, value]) => [id, decodeTenantShare(value)]),
    );
    this.drr.update(shares);
    this.ready = new Set(ready);
    this.refreshedAt = Date.now();
  }

  /** A tenant's queue was found empty: it is not ready any more, unless a job came meanwhile. */
  private async dropIfEmpty(tenantId: string): Promise<void> {
    if (!this.ready.has(tenantId)) return;
    const { model } = this.options;
    const dropped = await this.dropScript(
      fairReadyKey(model),
      ...tenantWaitKeys(model, tenantId),
      tenantId,
    );
    // Kept when a job came meanwhile: the next sweep looks again.
    if (dropped === 1) this.ready.delete(tenantId);
  }

  private worker(tenantId: string): Worker<T> {
    let worker = this.workers.get(tenantId);
    if (!worker) {
      worker = new Worker<T>(
        tenantQueueName(this.options.model, tenantId),
        null,
        {
          connection: this.options.connection,
          prefix: QUEUE_PREFIX,
          lockDuration: this.lockDurationMs,
          stalledInterval: this.lockDurationMs / 2,
          autorun: false,
        },
        sharedConnectionBackend,
      );
      worker.on('error', (error) =>
        this.problem('queue_error', { tenantId, error }),
      );
      // Its stalled check put a dead worker's job back in the queue: mark the tenant and ring.
      worker.on('stalled', () => {
        void this.options.connection
          .multi()
          .sadd(fairReadyKey(this.options.model), tenantId)
          .lpush(fairBellKey(this.options.model), tenantId)
          .exec()
          .catch((error: unknown) =>
            this.problem('stalled_ring_failed', { tenantId, error }),
          );
      });
      void worker
        .startStalledCheckTimer()
        .catch((error: unknown) =>
          this.problem('queue_error', { tenantId, error }),
        );
      this.workers.set(tenantId, worker);
    }
    return worker;
  }
}
