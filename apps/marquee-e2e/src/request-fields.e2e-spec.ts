import OpenAI from 'openai';
import { openai } from './support/clients';
import { rejectionOf } from './support/errors';
import { e2eStack } from './support/stack';

const client = openai();
const { model } = e2eStack();
const embeddingModel = `${model}-embed`;
const messages = [{ role: 'user' as const, content: 'hi' }];

/** Fields the `openai` types do not have, sent as the client sends any extra body field. */
const extra = (fields: Record<string, unknown>): object => fields;

describe('request fields', () => {
  it('refuses a field OpenAI does not have with 400 naming it', async () => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model,
        messages,
        max_tokens: 2,
        ...extra({ frobnicate: true }),
      }),
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      param: 'frobnicate',
      code: 'unknown_parameter',
      error: {
        message: 'Unrecognized request argument supplied: frobnicate',
      },
    });
  });

  it.each([
    ['echo', { echo: true }],
    ['suffix', { suffix: ' the end' }],
    ['best_of', { best_of: 3 }],
  ])(
    'refuses completions %s, which Marquee does not implement, with 400 naming it',
    async (param, fields) => {
      const error = await rejectionOf(
        client.completions.create({
          model,
          prompt: 'A heist film set in',
          max_tokens: 2,
          ...fields,
        }),
      );

      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({
        status: 400,
        param,
        code: 'unsupported_value',
      });
      expect((error as Error).message).toContain(`'${param}'`);
    },
  );

  it('accepts the defaults of those fields, and runs the request', async () => {
    const completion = await client.completions.create({
      model,
      prompt: 'A heist film set in',
      max_tokens: 2,
      echo: false,
      suffix: '',
      best_of: 1,
    });

    expect(completion.choices).toHaveLength(1);
  });

  it.each([
    ['store', { store: true }, 'unsupported_value'],
    [
      'audio',
      { audio: { voice: 'alloy', format: 'mp3' } },
      'unsupported_parameter',
    ],
  ])('refuses chat %s with 400 naming it', async (param, fields, code) => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model,
        messages,
        max_tokens: 2,
        ...extra(fields),
      }),
    );

    expect(error).toMatchObject({ status: 400, param, code });
  });

  it('names the limit of 4 when given 5 stop strings', async () => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model,
        messages,
        max_tokens: 2,
        stop: ['a', 'b', 'c', 'd', 'e'],
      }),
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'stop' });
    expect((error as Error).message).toContain('at most 4 stop sequences');
  });
});

describe('a model on the wrong endpoint', () => {
  it.each([
    [
      '/v1/chat/completions',
      () =>
        client.chat.completions.create({
          model: embeddingModel,
          messages,
          max_tokens: 2,
        }),
    ],
    [
      '/v1/completions',
      () =>
        client.completions.create({
          model: embeddingModel,
          prompt: 'hi',
          max_tokens: 2,
        }),
    ],
  ])(
    'answers an embedding model on %s with 400 on model, pointing to /v1/embeddings',
    async (endpoint, call) => {
      const error = await rejectionOf(call());

      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({
        status: 400,
        param: 'model',
        code: 'model_task_mismatch',
        error: {
          message: `The model \`${embeddingModel}\` is an embedding model and cannot be used with ${endpoint}; use /v1/embeddings.`,
        },
      });
    },
  );

  it('keeps 404 model_not_found for a model that does not exist', async () => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model: 'no-such-model',
        messages,
        max_tokens: 2,
      }),
    );

    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found' });
  });
});
