import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  USAGE_SETTLERS_GROUP,
  type UsageEntryPayload,
  usageEntrySchema,
} from '@marquee/contracts/queue';
import {
  BillingRepository,
  type Model,
  ModelRepository,
  type Settlement,
} from '@marquee/gateway/data-access-db';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import { PrincipalCache } from '@marquee/gateway/feature-auth';
import { AdmissionService } from '@marquee/gateway/feature-quotas';
import { costMicros } from '@marquee/gateway/util-billing';
import { GatewayConfig } from '@marquee/gateway/util-config';
import type { Redis } from 'ioredis';
import { RequestAccounting, prices } from './request-accounting.service';

/** A gateway's count of a lost worker's request waits this long for the worker's own, ms. */
export const RELAYED_GRACE_MS = 5_000;
/**
 * Entries another settler took and has not acknowledged for this long are taken over, ms. Short:
 * a replica killed while blocked on a read can still be handed entries (Redis has not yet seen
 * its connection close), and settling an entry twice is harmless.
 */
const CLAIM_IDLE_MS = 5_000;
const CLAIM_EVERY_MS = 2_000;
/** Retries of entries that failed (PostgreSQL down) back off up to this, ms. */
const MAX_BACKOFF_MS = 5_000;
const BATCH = 500;
/** After a round that billed something, the next waits this long for more entries, ms. */
const GATHER_MS = 20;
/** Model prices are read again after this long, ms. */
const PRICE_TTL_MS = 30_000;

type StreamEntry = [id: string, fields: string[]];

/** Settlement progress, for tests and the logs. */
export interface SettlerStats {
  settled: number;
  failures: number;
}

/**
 * Settles the usage ledger (see `usage-ledger.ts` in the queue contracts) into PostgreSQL: each
 * entry becomes the usage row and its charge in one transaction, then the request's budget
 * reservation becomes the actual cost. Every gateway replica is one consumer of the settlers'
 * group; an entry is acknowledged only once both steps succeeded, so a database outage delays
 * billing and never loses it (failed entries are retried with backoff, and a dead replica's
 * entries are taken over). Both steps are idempotent per request id: a retry never bills twice.
 */
@Injectable()
export class UsageSettler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(UsageSettler.name);
  private connection: Redis | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private groupReady = false;
  /** Own entries left unacknowledged (failed, or a relayed count in its grace) to look at again. */
  private retryAt: number | null = null;
  private backoffMs = 250;
  private claimAt = 0;
  private claimCursor = '0-0';
  private readonly prices = new Map<string, { at: number; model: Model }>();
  readonly stats: SettlerStats = { settled: 0, failures: 0 };
  private readonly stream: string;

  constructor(
    private readonly redis: RedisConnection,
    private readonly billing: BillingRepository,
    private readonly models: ModelRepository,
    private readonly admission: AdmissionService,
    private readonly config: GatewayConfig,
    accounting: RequestAccounting,
    principals: PrincipalCache,
  ) {
    this.stream = accounting.ledger;
    // A repricing applies from the next settlement on, on every replica.
    principals.onChange(() => this.prices.clear());
  }

  onApplicationBootstrap(): void {
    // Blocking reads need a connection of their own.
    this.connection = this.redis.client.duplicate({
      maxRetriesPerRequest: null,
    });
    // Its errors fail the round reading through it, which logs them (see loop).
    this.connection.on('error', () => undefined);
    this.running = this.loop();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.connection?.disconnect();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const settled = this.stats.settled;
        await this.round();
        // Busy: let entries gather for a moment, so that one transaction bills many requests
        // (and the database's work stays off the requests being answered meanwhile).
        if (this.stats.settled > settled) await sleep(GATHER_MS);
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn(
          { err: String(error) },
          'usage ledger unreachable; retrying',
        );
        await sleep(1_000);
      }
    }
  }

  /** One pass: entries of dead replicas, own entries due again, then new ones (blocking 1 s). */
  private async round(): Promise<void> {
    const redis = this.connection as Redis;
    const consumer = this.config.gatewayId;
    if (!this.groupReady) {
      await redis
        .xgroup('CREATE', this.stream, USAGE_SETTLERS_GROUP, '0', 'MKSTREAM')
        .catch((error: Error) => {
          if (!error.message.includes('BUSYGROUP')) throw error;
        });
      this.groupReady = true;
    }
    const now = Date.now();
    if (now >= this.claimAt) {
      this.claimAt = now + CLAIM_EVERY_MS;
      const [next, entries] = (await redis.xautoclaim(
        this.stream,
        USAGE_SETTLERS_GROUP,
        consumer,
        CLAIM_IDLE_MS,
        this.claimCursor,
        'COUNT',
        BATCH,
      )) as [string, StreamEntry[]];
      this.claimCursor = next;
      await this.settleAll(entries);
    }
    if (this.retryAt !== null && Date.now() >= this.retryAt) {
      this.retryAt = null;
      await this.settleAll(await this.read(redis, consumer, '0'));
    }
    await this.settleAll(await this.read(redis, consumer, '>'));
  }

  private async read(
    redis: Redis,
    consumer: string,
    from: '0' | '>',
  ): Promise<StreamEntry[]> {
    const blocking = from === '>' ? ['BLOCK', this.retryAt ? 250 : 1_000] : [];
    const reply = (await redis.xreadgroup(
      'GROUP',
      USAGE_SETTLERS_GROUP,
      consumer,
      'COUNT',
      BATCH,
      ...(blocking as ['BLOCK', number]),
      'STREAMS',
      this.stream,
      from,
    )) as [string, StreamEntry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /**
   * Settles a read's entries together: every usage row and charge in one PostgreSQL transaction,
   * then each reservation turned into its charge. Acknowledges what is done; a failed batch is
   * retried with backoff (rows already written are skipped, charges apply once).
   */
  private async settleAll(entries: StreamEntry[]): Promise<void> {
    const done: string[] = [];
    const billed: { id: string; entry: UsageEntryPayload; cost: bigint }[] = [];
    let failed = false;
    const fail = (entry: UsageEntryPayload, error: unknown) => {
      failed = true;
      this.stats.failures++;
      this.logger.warn(
        { requestId: entry.requestId, err: String(error) },
        'settlement failed; will retry',
      );
    };
    for (const [id, fields] of entries) {
      // A claimed entry deleted meanwhile comes back without fields.
      if (!fields) continue;
      const entry = parseEntry(fields);
      if (!entry) {
        this.logger.error({ streamId: id }, 'unreadable usage entry dropped');
        done.push(id);
        continue;
      }
      if (
        entry.source === 'gateway' &&
        Date.now() - entry.at < RELAYED_GRACE_MS
      ) {
        this.due(entry.at + RELAYED_GRACE_MS);
        continue;
      }
      try {
        const cost = await this.costOf(entry);
        if (cost === null) {
          // Nothing to bill: it did not run, or its model is gone.
          await this.admission.release(scopeOf(entry));
          done.push(id);
          this.stats.settled++;
        } else billed.push({ id, entry, cost });
      } catch (error) {
        fail(entry, error);
      }
    }
    if (billed.length > 0) {
      try {
        await this.billing.settleMany(
          billed.map(({ entry, cost }) => settlementOf(entry, cost)),
        );
        // The budget's reservations become the charges (independent: sent together).
        await Promise.all(
          billed.map(async ({ id, entry, cost }) => {
            try {
              await this.admission.charge(
                scopeOf(entry),
                entry.promptTokens + entry.completionTokens,
                cost,
              );
              done.push(id);
              this.stats.settled++;
            } catch (error) {
              fail(entry, error);
            }
          }),
        );
      } catch (error) {
        for (const { entry } of billed) fail(entry, error);
      }
    }
    if (failed) {
      this.due(Date.now() + this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    } else if (done.length > 0) this.backoffMs = 250;
    if (done.length > 0) {
      await (this.connection as Redis)
        .multi()
        .xack(this.stream, USAGE_SETTLERS_GROUP, ...done)
        .xdel(this.stream, ...done)
        .exec();
    }
  }

  private due(at: number): void {
    this.retryAt = this.retryAt === null ? at : Math.min(this.retryAt, at);
  }

  /** What an entry costs, or null when there is nothing to bill (not run, model deleted). */
  private async costOf(entry: UsageEntryPayload): Promise<bigint | null> {
    if (!entry.ran) return null;
    const model = await this.model(entry.modelId);
    if (!model) {
      // A model deleted with usage in flight: nothing to bill it against.
      this.logger.error(
        { requestId: entry.requestId, modelId: entry.modelId },
        'usage of a deleted model cannot be billed',
      );
      return null;
    }
    return costMicros({
      promptTokens: entry.promptTokens,
      completionTokens: entry.completionTokens,
      ...prices(model),
    });
  }

  private async model(id: string): Promise<Model | null> {
    const cached = this.prices.get(id);
    if (cached && Date.now() - cached.at < PRICE_TTL_MS) return cached.model;
    const model = await this.models.findById(id);
    if (model) this.prices.set(id, { at: Date.now(), model });
    return model;
  }
}

function scopeOf(entry: UsageEntryPayload) {
  return {
    requestId: entry.requestId,
    tenantId: entry.tenantId,
    apiKeyId: entry.apiKeyId,
    budgetMonth: entry.budgetMonth,
  };
}

function settlementOf(entry: UsageEntryPayload, cost: bigint): Settlement {
  return {
    requestId: entry.requestId,
    tenantId: entry.tenantId,
    apiKeyId: entry.apiKeyId,
    modelId: entry.modelId,
    endpoint: entry.endpoint,
    promptTokens: entry.promptTokens,
    completionTokens: entry.completionTokens,
    finishReason: entry.finishReason,
    costMicros: cost,
    createdAt: new Date(entry.at),
  };
}

function parseEntry(fields: string[]): UsageEntryPayload | null {
  const index = fields.indexOf('entry');
  if (index < 0) return null;
  try {
    const parsed = usageEntrySchema.safeParse(JSON.parse(fields[index + 1]));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
