import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { Client } from 'pg';
import { admin, openai, usageRows, waitForUsageRow } from './support/clients';
import { rejectionOf } from './support/errors';
import { e2eStack } from './support/stack';

const { model, tenantId, origin, databaseUrl } = e2eStack();

/** A key of its own, so the ledger rows of these tests can be counted alone. */
async function freshKey(name: string): Promise<{ id: string; key: string }> {
  const created = await admin('POST', `/tenants/${tenantId}/keys`, { name });
  expect(created.status).toBe(201);
  return (await created.json()) as { id: string; key: string };
}

/** Usage rows (charges) made with one API key. */
async function rowsOfKey(apiKeyId: string): Promise<{ request_id: string }[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ request_id: string }>(
      'SELECT request_id FROM usage_records WHERE api_key_id = $1',
      [apiKeyId],
    );
    return rows;
  } finally {
    await client.end();
  }
}

/** POSTs a JSON body with fetch (for the raw bytes), on a connection closed afterwards. */
const raw = (path: string, apiKey: string, key: string, body: object) =>
  fetch(`${origin}/v1${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': key,
      connection: 'close',
    },
    body: JSON.stringify(body),
  });

/** The text a chat SSE stream carries, read straight from its bytes. */
interface Chunk {
  choices: { delta: { content?: string } }[];
  usage?: { completion_tokens: number } | null;
}

function chunksOf(sse: Buffer): Chunk[] {
  return sse
    .toString()
    .split('\n\n')
    .filter((event) => event.startsWith('data: {'))
    .map((event) => JSON.parse(event.slice('data: '.length)) as Chunk);
}

function contentOf(sse: Buffer): string {
  return chunksOf(sse)
    .map((chunk) => chunk.choices[0]?.delta.content ?? '')
    .join('');
}

const chat = (extra: object = {}) => ({
  model,
  messages: [{ role: 'user' as const, content: 'Pitch a heist film' }],
  max_tokens: 8,
  temperature: 1,
  ...extra,
});

describe('Idempotency-Key', () => {
  let apiKey: { id: string; key: string };
  let client: OpenAI;

  beforeAll(async () => {
    apiKey = await freshKey('idempotency e2e');
    client = openai(apiKey.key);
  });

  it('replays a chat completion to a repeat, once charged, marked idempotent-replayed', async () => {
    const headers = { 'Idempotency-Key': randomUUID() };
    const first = await client.chat.completions
      .create(chat(), { headers })
      .withResponse();
    const repeat = await client.chat.completions
      .create(chat(), { headers })
      .withResponse();
    const requestId = first.response.headers.get('x-request-id') ?? '';

    expect(first.response.headers.get('idempotent-replayed')).toBeNull();
    expect(repeat.response.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.data).toEqual(first.data);
    expect(repeat.response.headers.get('x-request-id')).toBe(requestId);
    await waitForUsageRow(requestId);
    expect(await usageRows(requestId)).toHaveLength(1);
  });

  it('replays a stream as the same SSE bytes, which the openai client reads like the first', async () => {
    const key = randomUUID();
    const body = {
      ...chat(),
      stream: true as const,
      stream_options: { include_usage: true },
    };
    const first = await raw('/chat/completions', apiKey.key, key, body);
    const firstBytes = Buffer.from(await first.arrayBuffer());
    const repeat = await raw('/chat/completions', apiKey.key, key, body);
    const repeatBytes = Buffer.from(await repeat.arrayBuffer());
    const stream = await client.chat.completions.create(body, {
      headers: { 'Idempotency-Key': key },
    });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    const requestId = first.headers.get('x-request-id') ?? '';

    expect(first.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.headers.get('content-type')).toBe(
      first.headers.get('content-type'),
    );
    expect(repeatBytes.equals(firstBytes)).toBe(true);
    expect(text).toBe(contentOf(firstBytes));
    // Sampled at temperature 1, the model may end before max_tokens: the replay's count is the
    // first answer's, whatever it was.
    const firstUsage = chunksOf(firstBytes).find((c) => c.usage)?.usage;
    expect(firstUsage?.completion_tokens).toBeGreaterThan(0);
    expect(firstUsage?.completion_tokens).toBeLessThanOrEqual(8);
    expect(usage).toMatchObject({
      completion_tokens: firstUsage?.completion_tokens,
    });
    await waitForUsageRow(requestId);
    expect(await usageRows(requestId)).toHaveLength(1);
  });

  it('answers a repeat while the first still streams with 409 idempotency_key_in_use, then replays it', async () => {
    const headers = { 'Idempotency-Key': randomUUID() };
    const body = {
      model,
      prompt: 'Once',
      max_tokens: 200,
      stream: true as const,
    };
    // Sent together: one claims the key and streams for a while, the other finds it running.
    // No SDK retries: it would retry a 409 on its own (after `retry-after`).
    const attempts = await Promise.allSettled([
      client.completions.create(body, { headers, maxRetries: 0 }),
      client.completions.create(body, { headers, maxRetries: 0 }),
    ]);
    const runs = attempts.flatMap((a) =>
      a.status === 'fulfilled' ? [a.value] : [],
    );
    const conflicts = attempts.flatMap((a) =>
      a.status === 'rejected' ? [a.reason as unknown] : [],
    );
    expect({ runs: runs.length, conflicts: conflicts.length }).toEqual({
      runs: 1,
      conflicts: 1,
    });
    let firstText = '';
    for await (const chunk of runs[0])
      firstText += chunk.choices[0]?.text ?? '';
    const replay = await client.completions.create(body, { headers });
    let replayText = '';
    for await (const chunk of replay)
      replayText += chunk.choices[0]?.text ?? '';

    const conflict = conflicts[0];
    expect(conflict).toBeInstanceOf(OpenAI.ConflictError);
    expect(conflict).toMatchObject({
      status: 409,
      code: 'idempotency_key_in_use',
      type: 'invalid_request_error',
    });
    expect(
      (conflict as InstanceType<typeof OpenAI.APIError>).headers?.get(
        'retry-after',
      ),
    ).toBe('1');
    expect(firstText.length).toBeGreaterThan(0);
    expect(replayText).toBe(firstText);
  });

  it('answers the same key with a different body 422 idempotency_key_reused', async () => {
    const headers = { 'Idempotency-Key': randomUUID() };
    await client.chat.completions.create(chat(), { headers });

    const error = await rejectionOf(
      client.chat.completions.create(chat({ max_tokens: 9 }), { headers }),
    );

    expect(error).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expect(error).toMatchObject({
      status: 422,
      code: 'idempotency_key_reused',
      message: expect.stringContaining('different request body'),
    });
  });

  it('refuses the replay to a key revoked since, with 401', async () => {
    const revoked = await freshKey('idempotency revoked');
    const key = randomUUID();
    const first = await raw('/chat/completions', revoked.key, key, chat());
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    expect((await admin('DELETE', `/keys/${revoked.id}`)).status).toBe(200);
    const again = await raw('/chat/completions', revoked.key, key, chat());
    expect(again.status).toBe(401);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(
      ((await again.json()) as { error: { code: string } }).error.code,
    ).toBe('invalid_api_key');
  });

  it('makes one admin POST create one key however often it is sent', async () => {
    const key = randomUUID();
    const send = () =>
      fetch(`${origin}/admin/v1/tenants/${tenantId}/keys`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${e2eStack().adminToken}`,
          'content-type': 'application/json',
          'idempotency-key': key,
          connection: 'close',
        },
        body: JSON.stringify({ name: `idem ${key}` }),
      });
    const first = await send();
    const repeat = await send();

    expect(first.status).toBe(201);
    expect(repeat.status).toBe(201);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(await repeat.json()).toEqual(await first.json());
    const listed = await admin('GET', `/tenants/${tenantId}/keys`);
    const keys = (await listed.json()) as { data: { name: string }[] };
    expect(keys.data.filter((k) => k.name === `idem ${key}`)).toHaveLength(1);
  });

  it('makes 1,000 concurrent duplicates one job and one charge; the rest get 409 or the replay', async () => {
    const own = await freshKey('idempotency 1000');
    const key = randomUUID();
    const body = chat({ max_tokens: 16, seed: 3 });

    const settled = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const response = await raw('/chat/completions', own.key, key, body);
        return {
          status: response.status,
          replayed: response.headers.get('idempotent-replayed') === 'true',
          requestId: response.headers.get('x-request-id'),
          text: await response.text(),
        };
      }),
    );
    const ok = settled.filter((s) => s.status === 200);
    const conflicts = settled.filter((s) => s.status === 409);
    const original = ok.filter((s) => !s.replayed);
    const replay = await raw('/chat/completions', own.key, key, body);

    expect(ok.length + conflicts.length).toBe(1000);
    expect(original).toHaveLength(1);
    expect(new Set(ok.map((s) => s.text)).size).toBe(1);
    expect(new Set(ok.map((s) => s.requestId)).size).toBe(1);
    expect(await replay.text()).toBe(original[0].text);
    await waitForUsageRow(original[0].requestId ?? '');
    const rows = await rowsOfKey(own.id);
    expect(rows).toEqual([{ request_id: original[0].requestId }]);
  });
});
