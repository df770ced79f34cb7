import { e2eStack } from './support/stack';

const { origin, apiKey, model } = e2eStack();

interface ErrorBody {
  error: Record<string, unknown>;
}

/** Asserts OpenAI's error shape: exactly message, type, param and code, and nothing internal. */
function expectOpenAiError(body: ErrorBody, type: string, code: unknown) {
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual([
    'code',
    'message',
    'param',
    'type',
  ]);
  expect(body.error).toMatchObject({ type, code });
  expect(typeof body.error.message).toBe('string');
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules|FST_|stack/i);
}

describe('raw HTTP', () => {
  it('answers malformed JSON with 400 in OpenAI error shape, without internals', async () => {
    const response = await fetch(`${origin}/v1/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
      },
      body: `{"model": "${model}", "prompt": `,
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expectOpenAiError(
      (await response.json()) as ErrorBody,
      'invalid_request_error',
      'invalid_json',
    );
  });

  it('answers an unknown route with 404 in OpenAI error shape', async () => {
    const response = await fetch(`${origin}/v1/no-such-route`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });

    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expectOpenAiError(
      (await response.json()) as ErrorBody,
      'invalid_request_error',
      'unknown_url',
    );
  });

  it('refuses the admin API to a tenant key with 403', async () => {
    const response = await fetch(`${origin}/admin/v1/tenants`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'not allowed' }),
    });

    expect(response.status).toBe(403);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expectOpenAiError(
      (await response.json()) as ErrorBody,
      'permission_error',
      'admin_only',
    );
  });

  it('answers a request without a key with 401 in OpenAI error shape', async () => {
    const response = await fetch(`${origin}/v1/models`);

    expect(response.status).toBe(401);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expectOpenAiError(
      (await response.json()) as ErrorBody,
      'invalid_request_error',
      'invalid_api_key',
    );
  });

  it('puts a distinct x-request-id on every response, streamed ones included', async () => {
    const responses = await Promise.all([
      fetch(`${origin}/health/live`),
      fetch(`${origin}/health/ready`),
      fetch(`${origin}/v1/models`, {
        headers: { authorization: `Bearer ${apiKey}` },
      }),
      fetch(`${origin}/v1/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          model,
          prompt: 'hi',
          max_tokens: 2,
          stream: true,
        }),
      }),
    ]);
    await Promise.all(responses.map((r) => r.text()));

    const ids = responses.map((r) => r.headers.get('x-request-id'));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(responses[3].headers.get('content-type')).toMatch(
      /^text\/event-stream/,
    );
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("puts the caller's x-ratelimit headers on tenant-key responses, admitted or not", async () => {
    const auth = {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
    };
    const responses = await Promise.all([
      fetch(`${origin}/v1/models`, { headers: auth }),
      fetch(`${origin}/v1/completions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ model, prompt: 'hi', max_tokens: 2 }),
      }),
      fetch(`${origin}/v1/completions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          model,
          prompt: 'hi',
          max_tokens: 2,
          stream: true,
        }),
      }),
    ]);
    await Promise.all(responses.map((r) => r.text()));
    for (const response of responses) {
      expect(
        Number(response.headers.get('x-ratelimit-limit-requests')),
      ).toBeGreaterThan(0);
      expect(
        Number(response.headers.get('x-ratelimit-remaining-tokens')),
      ).toBeGreaterThanOrEqual(0);
      expect(response.headers.get('x-ratelimit-reset-requests')).toMatch(
        /^(\d+ms|(\d+h)?(\d+m)?\d+s)$/,
      );
    }
  });
});
