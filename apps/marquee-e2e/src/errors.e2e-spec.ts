import OpenAI from 'openai';
import { admin, openai } from './support/clients';
import { rejectionOf } from './support/errors';
import { e2eStack } from './support/stack';

/** The e2e model's context, in tokens (see global-setup). */
const CONTEXT_LENGTH = 256;
const client = openai();
const { model, tenantId } = e2eStack();
const chat = (extra: object = {}) =>
  client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 2,
    ...extra,
  });

describe('authentication', () => {
  it('rejects an unknown key with 401 invalid_api_key', async () => {
    const stranger = openai(`mq_${'x'.repeat(32)}`);

    const error = await rejectionOf(stranger.models.list());

    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('rejects a revoked key with 401 invalid_api_key', async () => {
    const created = await admin('POST', `/tenants/${tenantId}/keys`, {
      name: 'to revoke',
    });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; key: string };
    const holder = openai(key.key);
    await expect(holder.models.retrieve(model)).resolves.toMatchObject({
      id: model,
    });

    const revoked = await admin('DELETE', `/keys/${key.id}`);
    expect(revoked.status).toBe(200);
    const error = await rejectionOf(
      holder.completions.create({ model, prompt: 'hi', max_tokens: 1 }),
    );

    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
  });
});

describe('request validation', () => {
  it('answers 404 model_not_found for an unknown model', async () => {
    const error = await rejectionOf(
      client.completions.create({ model: 'no-such-model', prompt: 'hi' }),
    );

    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({
      status: 404,
      code: 'model_not_found',
      param: 'model',
    });
  });

  it.each([
    ['max_tokens below 1', { max_tokens: 0 }, 'max_tokens'],
    ['n above the limit', { n: 99 }, 'n'],
    ['no messages', { messages: [] }, 'messages'],
    [
      'a temperature that is not a number',
      { temperature: 'hot' },
      'temperature',
    ],
    ['max_tokens beyond the context', { max_tokens: 100_000 }, 'max_tokens'],
  ])('rejects %s with 400 naming the parameter', async (_, extra, param) => {
    const error = await rejectionOf(chat(extra));

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      param,
    });
  });

  it('rejects a prompt longer than the context with 400 context_length_exceeded', async () => {
    const prompt = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');

    const error = await rejectionOf(
      client.completions.create({ model, prompt, max_tokens: 4 }),
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
      param: 'prompt',
    });
  });

  it('rejects chat messages that fill the whole context with 400 naming messages', async () => {
    // One '~' is one token; measure the chat template's overhead, then fill the context exactly.
    const probe = await chat({ messages: [{ role: 'user', content: '~' }] });
    const overhead = (probe.usage?.prompt_tokens ?? 0) - 1;
    const content = '~'.repeat(CONTEXT_LENGTH - overhead);
    const fits = await chat({
      messages: [{ role: 'user', content: content.slice(1) }],
      max_tokens: 1,
    });
    expect(fits.usage?.prompt_tokens).toBe(CONTEXT_LENGTH - 1);

    const error = await rejectionOf(
      chat({ messages: [{ role: 'user', content }], max_tokens: undefined }),
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
      param: 'messages',
    });
  });
});
