import { Client } from 'pg';
import { openai } from './support/clients';
import { e2eStack } from './support/stack';

async function preview(body: object, key = e2eStack().apiKey) {
  const response = await fetch(`${e2eStack().origin}/v1/cost-preview`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function billedCost(requestId: string): Promise<bigint> {
  const db = new Client({ connectionString: e2eStack().databaseUrl });
  await db.connect();
  try {
    for (let i = 0; i < 50; i++) {
      const { rows } = await db.query<{ cost: string }>(
        'SELECT cost_micros::text AS cost FROM usage_records WHERE request_id = $1',
        [requestId],
      );
      if (rows[0]) return BigInt(rows[0].cost);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no usage row for ${requestId}`);
  } finally {
    await db.end();
  }
}

describe('POST /v1/cost-preview', () => {
  it('counts a completion prompt exactly as billing does and brackets the real cost', async () => {
    const request = {
      model: e2eStack().model,
      prompt: 'A lighthouse keeper finds a film reel',
      max_tokens: 12,
      n: 2,
    };
    const { status, body } = await preview(request);
    expect(status).toBe(200);
    const { data, response } = await openai()
      .completions.create({ ...request, seed: 3 })
      .withResponse();
    expect(body.prompt_tokens).toBe(data.usage?.prompt_tokens);
    expect(body.max_completion_tokens).toBe(24);
    const cost = await billedCost(response.headers.get('x-request-id') ?? '');
    const range = body.cost_micros as { min: string; max: string };
    expect(BigInt(range.min)).toBeLessThanOrEqual(cost);
    expect(cost).toBeLessThanOrEqual(BigInt(range.max));
  });

  it('renders chat messages with the model template before counting', async () => {
    const messages = [{ role: 'user' as const, content: 'Pitch a heist film' }];
    const { body } = await preview({
      model: e2eStack().model,
      messages,
      max_tokens: 3,
    });
    const chat = await openai().chat.completions.create({
      model: e2eStack().model,
      messages,
      max_tokens: 3,
    });
    expect(body.prompt_tokens).toBe(chat.usage?.prompt_tokens);
  });

  it('answers an unknown model with 404 and a bad body with 400 naming the parameter', async () => {
    expect(
      (await preview({ model: 'no-such-model', prompt: 'x' })).status,
    ).toBe(404);
    const bad = await preview({
      model: e2eStack().model,
      prompt: 'x',
      max_tokens: -1,
    });
    expect(bad.status).toBe(400);
    expect((bad.body.error as { param: string }).param).toBe('max_tokens');
  });
});
