import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  GATEWAY_ALIVE_REFRESH_MS,
  JOB_RUN_KEY_TTL_S,
  type JobBilling,
  type UsageEntryPayload,
  appendUsageRetrying,
  gatewayAliveKey,
  jobRunKey,
  workerPresenceKey,
} from '@marquee/contracts/queue';
import { WorkerConfig } from '@marquee/worker/util-config';
import { openWorkerRedis } from '@marquee/worker/feature-fair-queue';
import type { Redis } from 'ioredis';
import type { JobUsage } from './run-job';

/** A job, as far as its usage entry needs it. */
export interface BilledJob {
  requestId: string;
  tenantId: string;
  apiKeyId: string;
  endpoint: UsageEntryPayload['endpoint'];
  replyTo: { gatewayId: string };
  billing?: JobBilling;
}

/** How long a usage entry is retried while Redis is unreachable before the job ends anyway, ms. */
const RECORD_RETRY_FOR_MS = 120_000;

/**
 * The worker's side of the usage ledger: a job's usage is appended to the ledger stream before
 * its end is reported and the job acknowledged, so the count survives this worker and the
 * gateway alike. Also keeps a job from running twice, and tells whether its requester lives.
 */
@Injectable()
export class UsageRecorder implements OnModuleDestroy {
  private readonly logger = new Logger(UsageRecorder.name);
  private readonly redis: Redis;
  /** Gateways whose link closed with requests on it: the alive-key value seen then. */
  private readonly gone = new Map<string, string | null>();

  constructor(private readonly config: WorkerConfig) {
    this.redis = openWorkerRedis(config.redisUrl, 'usage-ledger', 'commands');
  }

  /**
   * Appends a started job's usage; retries while Redis is unreachable (up to two minutes, then
   * logs what was lost). A job without billing (from an older gateway) records nothing.
   */
  async record(job: BilledJob, usage: JobUsage): Promise<void> {
    await this.append(job, true, usage);
  }

  /**
   * Gives a job's admission back through the ledger, billing nothing: it was dropped without
   * running, or ran for a gateway that no longer held it (its client was answered already).
   */
  async dropped(job: BilledJob): Promise<void> {
    await this.append(job, false, {
      promptTokens: 0,
      completionTokens: 0,
      finishReason: 'requester_gone',
    });
  }

  /**
   * Claims the right to start a job. False when some worker started it before: a lost worker's
   * job that BullMQ's stalled check put back, whose client was already told `worker_lost`.
   */
  async claimRun(requestId: string): Promise<boolean> {
    const set = await this.redis.set(
      jobRunKey(requestId),
      this.config.workerId,
      'EX',
      JOB_RUN_KEY_TTL_S,
      'NX',
    );
    return set === 'OK';
  }

  /**
   * The fast path of starting a job, in one round trip: claims its run (as {@link claimRun}) and
   * tells whether its requester looked alive (its key there, and refreshed since its link was
   * seen closing). `claimed: false`: some worker started it before.
   */
  async claimIfAlive(
    requestId: string,
    gatewayId: string,
  ): Promise<{ claimed: boolean; alive: boolean }> {
    const replies = await this.redis
      .multi()
      .get(gatewayAliveKey(gatewayId))
      .set(
        jobRunKey(requestId),
        this.config.workerId,
        'EX',
        JOB_RUN_KEY_TTL_S,
        'NX',
      )
      .exec();
    if (!replies) throw new Error('the start check was aborted');
    const [[aliveError, value], [claimError, set]] = replies;
    if (aliveError) throw aliveError;
    if (claimError) throw claimError;
    return {
      claimed: set === 'OK' || (await this.takeOverFromDead(requestId)),
      alive: this.fresh(gatewayId, value as string | null),
    };
  }

  /**
   * A claim whose worker is dead (its presence gone) passes to this one: that worker may have
   * died before its `started` reached the gateway, which then still waits for the job. Running
   * it again is safe: a gateway that already answered the client cancels it as unheld, unbilled.
   */
  private async takeOverFromDead(requestId: string): Promise<boolean> {
    const key = jobRunKey(requestId);
    const owner = await this.redis.get(key);
    if (owner === null || owner === this.config.workerId) return false;
    if ((await this.redis.exists(workerPresenceKey(owner))) === 1) return false;
    // Only if the claim is still that dead worker's (another survivor may take it first).
    const taken = await this.redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end return 0",
      1,
      key,
      owner,
      this.config.workerId,
      String(JOB_RUN_KEY_TTL_S),
    );
    return taken === 1;
  }

  /** A job handed back unstarted (shutdown): another worker may start it. */
  async unclaimRun(requestId: string): Promise<void> {
    await this.redis.del(jobRunKey(requestId));
  }

  /**
   * A gateway's link closed with requests on it: until its alive key is refreshed again, its
   * queued jobs are not started (the key outlives a dead gateway by up to its TTL).
   */
  async markGone(gatewayId: string): Promise<void> {
    const seen = await this.redis.get(gatewayAliveKey(gatewayId));
    this.gone.set(gatewayId, seen);
    if (this.gone.size > 1_000) {
      const oldest = this.gone.keys().next().value;
      if (oldest !== undefined) this.gone.delete(oldest);
    }
  }

  /**
   * Whether the gateway replica that queued a job is alive: its alive key is there and, if its
   * link was seen closing, refreshed since. Otherwise it is looked at again after the replica's
   * refresh interval, so a Redis restart (which forgets keys whose time ran out meanwhile) or a
   * link that only flapped does not drop a live replica's jobs.
   */
  async requesterAlive(gatewayId: string): Promise<boolean> {
    const key = gatewayAliveKey(gatewayId);
    const alive = async () => this.fresh(gatewayId, await this.redis.get(key));
    if (await alive()) return true;
    await sleep(GATEWAY_ALIVE_REFRESH_MS + 500);
    return alive();
  }

  /** Whether an alive-key value shows its gateway alive (refreshed since its link closed, if it did). */
  private fresh(gatewayId: string, value: string | null): boolean {
    if (value === null) return false;
    if (!this.gone.has(gatewayId)) return true;
    if (value === this.gone.get(gatewayId)) return false;
    this.gone.delete(gatewayId);
    return true;
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }

  /** Appends the job's entry to the ledger its gateway named (none without billing). */
  private async append(
    job: BilledJob,
    ran: boolean,
    usage: JobUsage,
  ): Promise<void> {
    if (!job.billing) return;
    const { ledger, modelId, budgetMonth } = job.billing;
    const entry: UsageEntryPayload = {
      requestId: job.requestId,
      tenantId: job.tenantId,
      apiKeyId: job.apiKeyId,
      endpoint: job.endpoint,
      ran,
      ...usage,
      modelId,
      budgetMonth,
      source: 'worker',
      at: Date.now(),
    };
    const error = await appendUsageRetrying(this.redis, ledger, entry, {
      retryForMs: RECORD_RETRY_FOR_MS,
      firstDelayMs: 100,
      maxDelayMs: 2_000,
    });
    if (error !== null)
      this.logger.error(
        {
          requestId: entry.requestId,
          promptTokens: entry.promptTokens,
          completionTokens: entry.completionTokens,
          err: String(error),
        },
        'usage could not be recorded',
      );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
