import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Client } from 'pg';
import { startSecondGateway, type Replica } from './support/second-gateway';
import { e2eStack } from './support/stack';

/** Admin call on a given replica. */
async function adminOn(
  origin: string,
  method: string,
  path: string,
  body?: object,
) {
  const response = await fetch(`${origin}/admin/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${e2eStack().adminToken}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok)
    throw new Error(
      `${method} ${path}: ${response.status} ${await response.text()}`,
    );
  return (await response.json()) as Record<string, unknown>;
}

/** Every key secret this file minted, to look for in the logs at the end. */
const mintedKeys: string[] = [];

/** A fresh tenant on a plan, with credit and a key. */
async function tenantOnPlan(
  origin: string,
  plan: Record<string, unknown>,
  creditMicros = 1_000_000_000,
) {
  const created = await adminOn(origin, 'POST', '/plans', {
    name: `plan-${Date.now()}-${Math.random()}`,
    ...plan,
  });
  const tenant = await adminOn(origin, 'POST', '/tenants', {
    name: `tenant-${Date.now()}`,
    plan_id: created.id,
  });
  await adminOn(origin, 'POST', `/tenants/${String(tenant.id)}/credits`, {
    amount_micros: creditMicros,
  });
  const key = await adminOn(
    origin,
    'POST',
    `/tenants/${String(tenant.id)}/keys`,
    { name: 'e2e' },
  );
  mintedKeys.push(String(key.key));
  return {
    tenantId: String(tenant.id),
    keyId: String(key.id),
    key: String(key.key),
  };
}

const client = (origin: string, apiKey: string) =>
  new OpenAI({ baseURL: `${origin}/v1`, apiKey, maxRetries: 0 });

describe('two gateway replicas sharing PostgreSQL and Redis', () => {
  let second: Replica;
  const first = () => e2eStack().origin;

  beforeAll(async () => {
    second = await startSecondGateway();
  });

  afterAll(async () => {
    await second?.stop();
  });

  it('stops a revoked key on the other replica within one second', async () => {
    const { keyId, key } = await tenantOnPlan(first(), {
      requests_per_minute: 1000,
      tokens_per_minute: 1_000_000,
      max_concurrent_requests: 10,
    });
    // The second replica has the key cached as valid.
    await client(second.origin, key).models.list();
    await adminOn(first(), 'DELETE', `/keys/${keyId}`);
    const revokedAt = Date.now();
    let status = 200;
    while (status !== 401 && Date.now() - revokedAt < 5_000) {
      status = (
        await fetch(`${second.origin}/v1/models`, {
          headers: { authorization: `Bearer ${key}` },
        })
      ).status;
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
  });

  it('admits no more than the per-minute limit across both replicas', async () => {
    const limit = 20;
    const { key } = await tenantOnPlan(first(), {
      requests_per_minute: limit,
      tokens_per_minute: 10_000_000,
      max_concurrent_requests: 100,
    });
    const statuses = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const origin = i % 2 === 0 ? first() : second.origin;
        const response = await fetch(`${origin}/v1/completions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            model: e2eStack().model,
            prompt: 'x',
            max_tokens: 1,
          }),
        });
        if (response.status === 429) {
          const body = (await response.json()) as { error: { code: string } };
          expect(body.error.code).toBe('rate_limit_exceeded');
          expect(
            Number(response.headers.get('retry-after-ms')),
          ).toBeGreaterThan(0);
        } else {
          await response.text();
        }
        return response.status;
      }),
    );
    const admitted = statuses.filter((s) => s === 200).length;
    expect(admitted).toBeLessThanOrEqual(Math.floor(limit * 1.01));
    expect(admitted).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    // Each replica got 30 of the 60 and admitted at most 20: both refused some.
    const metrics = await (
      await fetch(`${second.metricsOrigin}/metrics`)
    ).text();
    expect(metrics).toMatch(
      /marquee_admission_refusals_total\{[^}]*reason="requests_per_minute"[^}]*\} [1-9]/,
    );
  });

  it('bills exactly the usage clients were told, over streamed, whole and cancelled requests on both replicas', async () => {
    const { tenantId, key } = await tenantOnPlan(first(), {
      requests_per_minute: 1000,
      tokens_per_minute: 10_000_000,
      max_concurrent_requests: 50,
    });
    let toldPrompt = 0;
    let toldCompletion = 0;
    let cancelledDelivered = 0;
    let cancelledMax = 0;
    for (const [i, origin] of [
      first(),
      second.origin,
      first(),
      second.origin,
    ].entries()) {
      const openai = client(origin, key);
      const whole = await openai.completions.create({
        model: e2eStack().model,
        prompt: `Scene ${i}`,
        max_tokens: 5 + i,
        seed: i,
      });
      toldPrompt += whole.usage?.prompt_tokens ?? 0;
      toldCompletion += whole.usage?.completion_tokens ?? 0;
      const stream = await openai.chat.completions.create({
        model: e2eStack().model,
        messages: [{ role: 'user', content: `Pitch ${i}` }],
        max_tokens: 4 + i,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) {
        if (chunk.usage) {
          toldPrompt += chunk.usage.prompt_tokens;
          toldCompletion += chunk.usage.completion_tokens;
        }
      }
      // Cancelled: the client reads two chunks and hangs up. It is told no usage; the ledger may
      // bill the tokens generated before the cancel reached the worker, never more than asked for.
      const cancelled = await openai.completions.create({
        model: e2eStack().model,
        prompt: `Reel ${i}`,
        max_tokens: 200,
        stream: true,
        logprobs: 0,
        // The e2e model's end tokens (the last ids of its 512-token vocabulary) are banned, so
        // this stream can only end by the client's cancel.
        logit_bias: { '510': -100, '511': -100 },
      });
      let chunks = 0;
      for await (const chunk of cancelled) {
        cancelledDelivered += chunk.choices[0]?.logprobs?.tokens?.length ?? 0;
        if (++chunks === 2) break;
      }
      cancelledMax += 200;
    }
    // Settlement happens as each request ends; give the cancelled ones a moment to settle.
    const db = new Client({ connectionString: e2eStack().databaseUrl });
    await db.connect();
    try {
      let rows: {
        finish_reason: string;
        prompt_tokens: number;
        completion_tokens: number;
      }[] = [];
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        ({ rows } = await db.query(
          'SELECT finish_reason, prompt_tokens, completion_tokens FROM usage_records WHERE tenant_id = $1',
          [tenantId],
        ));
        if (rows.length === 12) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(rows).toHaveLength(12);
      const finished = rows.filter((r) => r.finish_reason !== 'cancelled');
      const cancelled = rows.filter((r) => r.finish_reason === 'cancelled');
      expect(finished).toHaveLength(8);
      expect(finished.reduce((s, r) => s + r.prompt_tokens, 0)).toBe(
        toldPrompt,
      );
      expect(finished.reduce((s, r) => s + r.completion_tokens, 0)).toBe(
        toldCompletion,
      );
      const billedCancelled = cancelled.reduce(
        (s, r) => s + r.completion_tokens,
        0,
      );
      expect(billedCancelled).toBeGreaterThanOrEqual(cancelledDelivered);
      expect(billedCancelled).toBeLessThan(cancelledMax);
      const charged = await db.query<{ total: string }>(
        "SELECT COALESCE(-SUM(amount_micros), 0)::text AS total FROM credit_transactions WHERE tenant_id = $1 AND kind = 'charge'",
        [tenantId],
      );
      const costs = await db.query<{ total: string }>(
        'SELECT COALESCE(SUM(cost_micros), 0)::text AS total FROM usage_records WHERE tenant_id = $1',
        [tenantId],
      );
      expect(charged.rows[0].total).toBe(costs.rows[0].total);
    } finally {
      await db.end();
    }
  });

  it('charges 50 concurrent requests on both replicas no more than the budget plus one request', async () => {
    const model = (await adminOn(first(), 'GET', '/models')) as {
      data?: {
        name: string;
        input_price_per_mtok_micros: string;
        output_price_per_mtok_micros: string;
      }[];
    };
    const priced = model.data?.find((m) => m.name === e2eStack().model);
    const prompt = 'A budget thriller';
    const maxTokens = 100;
    // The gateway reserves the prompt at its byte bound (bytes + 2) plus max_tokens.
    const worstCase = Math.ceil(
      ((prompt.length + 2) * Number(priced?.input_price_per_mtok_micros) +
        maxTokens * Number(priced?.output_price_per_mtok_micros)) /
        1e6,
    );
    expect(worstCase).toBeGreaterThan(0);
    const budget = 5 * worstCase;
    const { tenantId, key } = await tenantOnPlan(
      first(),
      {
        requests_per_minute: 1000,
        tokens_per_minute: 10_000_000,
        max_concurrent_requests: 100,
      },
      budget,
    );
    const statuses = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const response = await fetch(
          `${i % 2 === 0 ? first() : second.origin}/v1/completions`,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${key}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({
              model: e2eStack().model,
              prompt,
              max_tokens: maxTokens,
            }),
          },
        );
        const body = (await response.json()) as { error?: { code: string } };
        if (response.status === 429)
          expect(body.error?.code).toBe('insufficient_quota');
        return response.status;
      }),
    );
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(statuses).toContain(429);
    const db = new Client({ connectionString: e2eStack().databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ total: string }>(
        "SELECT COALESCE(-SUM(amount_micros), 0)::text AS total FROM credit_transactions WHERE tenant_id = $1 AND kind = 'charge'",
        [tenantId],
      );
      expect(Number(rows[0].total)).toBeLessThanOrEqual(budget + worstCase);
    } finally {
      await db.end();
    }
  });

  it("limits a key to its own lower rate while the tenant's plan allows more", async () => {
    const { tenantId } = await tenantOnPlan(first(), {
      requests_per_minute: 100,
      tokens_per_minute: 10_000_000,
      max_concurrent_requests: 100,
    });
    const capped = await adminOn(first(), 'POST', `/tenants/${tenantId}/keys`, {
      name: 'capped',
      requests_per_minute: 3,
    });
    expect(capped.requests_per_minute).toBe(3);
    mintedKeys.push(String(capped.key));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(
        `${i % 2 === 0 ? first() : second.origin}/v1/completions`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${String(capped.key)}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            model: e2eStack().model,
            prompt: 'x',
            max_tokens: 1,
          }),
        },
      );
      await response.text();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('never writes a key secret to any log line', () => {
    const logDir = join(tmpdir(), 'marquee-e2e-logs');
    const logs = readdirSync(logDir).map((file) =>
      readFileSync(join(logDir, file), 'utf8'),
    );
    expect(logs.join('').length).toBeGreaterThan(0);
    for (const secret of [
      ...mintedKeys,
      e2eStack().apiKey,
      e2eStack().adminToken,
    ]) {
      for (const log of logs) expect(log.includes(secret)).toBe(false);
    }
  });
});
