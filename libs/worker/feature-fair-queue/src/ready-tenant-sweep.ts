import {
  DROP_IF_EMPTY_SCRIPT,
  type LuaCommand,
  luaCommand,
  MARK_IF_WAITING_SCRIPT,
  type TenantShare,
  decodeTenantShare,
  fairReadyKey,
  fairTenantsKey,
  tenantWaitKeys,
} from '@marquee/contracts/queue';
import type { Redis } from 'ioredis';
import { DeficitRoundRobin } from './deficit-round-robin';
import type { FairJob } from './job-lease';
import type { ReportProblem } from './queue-problem';
import type { TenantQueues } from './tenant-queues';

/** The most jobs one look takes from a lone busy tenant at once. */
const MAX_BURST = 64;

export interface ReadyTenantSweepOptions {
  model: string;
  connection: Redis;
  /** The tenant list is re-read at least this often, ms. */
  refreshMs: number;
  /** How often a marking pass looks at every tenant, ms. */
  fullSweepMs: number;
  report: ReportProblem;
}

/** The slots waiting for a job, as a sweep sees them. */
export interface WaitingSlots<T> {
  /** How many wait now. */
  readonly count: number;
  /** Gives a job to the first in line. */
  serve(job: FairJob<T>): void;
}

/**
 * Which tenant's job comes next: the tenants with jobs waiting (the model's ready set, as last
 * read and since updated by rings), visited by tier then weighted deficit round-robin.
 *
 * "Generations" come from the fetch loop, which bumps its count whenever work may have appeared
 * (a ring, a marking pass that marked): the tenant list must be newer than the last ring, since
 * the ringing tenant may be marked only since.
 */
export class ReadyTenantSweep<T> {
  private readonly drr = new DeficitRoundRobin();
  /** Tenants that may have jobs queued. */
  private ready = new Set<string>();
  private refreshedAt = 0;
  /** The generation the tenant list was last read at. */
  private refreshedGeneration = -1;
  /** When the last marking pass ran (0: at the first look, so a restarted worker catches up). */
  private markedAt = 0;
  /** How many jobs the next look at a lone busy tenant asks for (see {@link sweep}). */
  private burst = 1;
  private readonly dropScript: LuaCommand;

  constructor(
    private readonly options: ReadyTenantSweepOptions,
    private readonly queues: TenantQueues<T>,
  ) {
    this.dropScript = luaCommand(
      options.connection,
      'mqDropIfEmpty',
      DROP_IF_EMPTY_SCRIPT,
      5,
    );
  }

  /**
   * Rings heard at `generation` name the tenants that queued a job (older gateways ring `1`): a
   * tenant the round knows is ready at once, with no re-read of the lists; any other ring asks
   * for one.
   */
  hear(rings: string[], generation: number): void {
    let known = true;
    for (const ring of rings) {
      if (this.drr.knows(ring)) this.ready.add(ring);
      else known = false;
    }
    if (known) this.refreshedGeneration = generation;
    else this.refreshedAt = 0;
  }

  /** Re-reads the tenant list and the ready marks if older than `generation` or `refreshMs`. */
  async refreshIfStale(generation: number, now: number): Promise<void> {
    if (
      this.refreshedGeneration === generation &&
      now - this.refreshedAt < this.options.refreshMs
    )
      return;
    const { connection, model } = this.options;
    const [raw, ready] = await Promise.all([
      connection.hgetall(fairTenantsKey(model)),
      connection.smembers(fairReadyKey(model)),
    ]);
    const shares = new Map<string, TenantShare>(
      Object.entries(raw).map(([id, value]) => [id, decodeTenantShare(value)]),
    );
    this.drr.update(shares);
    this.ready = new Set(ready);
    this.refreshedAt = Date.now();
    this.refreshedGeneration = generation;
  }

  /**
   * Every `fullSweepMs`, marks every known tenant that has jobs waiting but no mark (stalled jobs
   * of a crashed worker), and makes sure each has a BullMQ worker here, whose stalled check puts
   * a crashed worker's jobs back in the queue. Whether it marked any.
   */
  async markIfDue(now: number): Promise<boolean> {
    if (now - this.markedAt < this.options.fullSweepMs) return false;
    this.markedAt = Date.now();
    const { connection, model } = this.options;
    try {
      const tenants = Object.keys(
        await connection.hgetall(fairTenantsKey(model)),
      );
      if (tenants.length === 0) return false;
      for (const tenantId of tenants) this.queues.watch(tenantId);
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
      // A pipeline resolves with its commands' errors in the replies: one report per pass.
      const failed = results.findIndex(([error]) => error);
      if (failed >= 0)
        this.options.report('marking_failed', {
          tenantId: tenants[failed],
          error: results[failed]?.[0],
        });
      return results.some(([, added]) => added === 1);
    } catch (error) {
      this.options.report('marking_failed', { error });
      return false;
    }
  }

  /**
   * One pass over the candidates in fair order, giving what it finds to the waiting slots;
   * returns how many jobs it gave. It takes one job at a time, except when a single tenant has
   * work: then fairness has no one else to serve, and it takes jobs for several waiting slots at
   * once (their fetches share one round trip), twice as many each time the queue had them all.
   */
  async sweep(slots: WaitingSlots<T>): Promise<number> {
    const candidates = this.drr.candidates();
    const ready = candidates.filter((id) => this.ready.has(id)).length;
    for (const tenantId of candidates) {
      if (!this.ready.has(tenantId)) {
        this.drr.idle(tenantId); // no credit kept while it has nothing queued
        continue;
      }
      const wanted = ready === 1 ? Math.min(slots.count, this.burst) : 1;
      const handed = await this.queues.take(tenantId, wanted, (job) => {
        this.drr.served(tenantId);
        slots.serve(job);
      });
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
}
