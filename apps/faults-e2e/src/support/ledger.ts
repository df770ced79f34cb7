import { Client } from 'pg';
import { pause } from './until';

/** A request's rows in the ledger: its usage records and its charges. */
export interface LedgerEntry {
  requestId: string;
  /** Rows in usage_records with this request id (1 when billed exactly once). */
  usageRows: number;
  /** Rows in credit_transactions of kind `charge` with this request id. */
  chargeRows: number;
  promptTokens: number;
  completionTokens: number;
  finishReason: string | null;
  costMicros: bigint;
  /** The charge's amount: minus the cost. */
  chargeMicros: bigint;
}

/**
 * Reads `usage_records` and `credit_transactions` straight from PostgreSQL. Each read opens its
 * own connection, so a read during a database outage fails (and may be retried) without
 * leaving a broken client behind.
 */
export class Ledger {
  constructor(private readonly databaseUrl: string) {}

  /** Every request id in the ledger with its rows (ids asked for and not found are absent). */
  async entries(requestIds: string[]): Promise<Map<string, LedgerEntry>> {
    const client = new Client({
      connectionString: this.databaseUrl,
      connectionTimeoutMillis: 2000,
    });
    await client.connect();
    try {
      const usage = await client.query<{
        request_id: string;
        rows: string;
        prompt: string;
        completion: string;
        finish: string | null;
        cost: string;
      }>(
        `SELECT request_id, count(*) AS rows, sum(prompt_tokens) AS prompt,
                sum(completion_tokens) AS completion, max(finish_reason) AS finish,
                sum(cost_micros) AS cost
           FROM usage_records WHERE request_id = ANY($1) GROUP BY request_id`,
        [requestIds],
      );
      const charges = await client.query<{
        request_id: string;
        rows: string;
        amount: string;
      }>(
        `SELECT request_id, count(*) AS rows, sum(amount_micros) AS amount
           FROM credit_transactions
          WHERE kind = 'charge' AND request_id = ANY($1) GROUP BY request_id`,
        [requestIds],
      );
      const found = new Map<string, LedgerEntry>();
      const entry = (requestId: string) => {
        let current = found.get(requestId);
        if (!current) {
          current = {
            requestId,
            usageRows: 0,
            chargeRows: 0,
            promptTokens: 0,
            completionTokens: 0,
            finishReason: null,
            costMicros: 0n,
            chargeMicros: 0n,
          };
          found.set(requestId, current);
        }
        return current;
      };
      for (const row of usage.rows) {
        const e = entry(row.request_id);
        e.usageRows = Number(row.rows);
        e.promptTokens = Number(row.prompt);
        e.completionTokens = Number(row.completion);
        e.finishReason = row.finish;
        e.costMicros = BigInt(row.cost);
      }
      for (const row of charges.rows) {
        const e = entry(row.request_id);
        e.chargeRows = Number(row.rows);
        e.chargeMicros = BigInt(row.amount);
      }
      return found;
    } finally {
      await client.end();
    }
  }

  /**
   * Polls until every id in `requestIds` has a usage record, or `timeoutMs` passes; returns what
   * the ledger holds then either way (the test asserts on it, naming what is missing).
   */
  async settled(
    requestIds: string[],
    timeoutMs: number,
  ): Promise<Map<string, LedgerEntry>> {
    const deadline = Date.now() + timeoutMs;
    let last = new Map<string, LedgerEntry>();
    for (;;) {
      try {
        last = await this.entries(requestIds);
        if (requestIds.every((id) => (last.get(id)?.usageRows ?? 0) > 0))
          return last;
      } catch {
        // The database may still be coming back: the deadline decides.
      }
      if (Date.now() >= deadline) return last;
      await pause(500);
    }
  }

  /** Request ids that appear more than once in usage_records or in charges (all of them). */
  async duplicates(): Promise<string[]> {
    const client = new Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ request_id: string }>(
        `SELECT request_id FROM usage_records GROUP BY request_id HAVING count(*) > 1
         UNION
         SELECT request_id FROM credit_transactions
          WHERE request_id IS NOT NULL GROUP BY request_id HAVING count(*) > 1`,
      );
      return rows.map((r) => r.request_id);
    } finally {
      await client.end();
    }
  }

  /** Nothing to close: every read has its own connection. */
  async close(): Promise<void> {
    return;
  }
}
