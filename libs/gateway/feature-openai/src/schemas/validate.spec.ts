import { ApiError } from '@marquee/gateway/util-http';
import { chatCompletionRequestSchema } from './chat-completion-request.schema';
import { completionRequestSchema } from './completion-request.schema';
import { paramName, parseBody } from './validate';

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('request validation', () => {
  it('names nested parameters the way OpenAI does', () => {
    expect(paramName(['messages', 0, 'content'])).toBe('messages[0].content');
    expect(paramName(['max_tokens'])).toBe('max_tokens');
  });

  it('rejects max_tokens below 1 with a 400 naming max_tokens', () => {
    const error = errorOf(() =>
      parseBody(completionRequestSchema, {
        model: 'm',
        prompt: 'x',
        max_tokens: 0,
      }),
    );
    expect(error.status).toBe(400);
    expect(error.param).toBe('max_tokens');
    expect(error.type).toBe('invalid_request_error');
  });

  it('rejects a missing prompt as a missing required parameter', () => {
    const error = errorOf(() =>
      parseBody(completionRequestSchema, { model: 'm' }),
    );
    expect(error.param).toBe('prompt');
    expect(error.message).toContain('Missing required parameter');
  });

  it('rejects n out of range and empty messages', () => {
    expect(
      errorOf(() =>
        parseBody(chatCompletionRequestSchema, {
          model: 'm',
          messages: [{ role: 'user', content: 'hi' }],
          n: 99,
        }),
      ).param,
    ).toBe('n');
    expect(
      errorOf(() =>
        parseBody(chatCompletionRequestSchema, { model: 'm', messages: [] }),
      ).param,
    ).toBe('messages');
    expect(
      errorOf(() =>
        parseBody(chatCompletionRequestSchema, {
          model: 'm',
          messages: [{ role: 'robot', content: 'x' }],
        }),
      ).param,
    ).toBe('messages[0].role');
  });

  it('rejects wrong types and non-object bodies', () => {
    expect(
      errorOf(() =>
        parseBody(completionRequestSchema, {
          model: 'm',
          prompt: 'x',
          temperature: 'hot',
        }),
      ).param,
    ).toBe('temperature');
    expect(
      errorOf(() => parseBody(completionRequestSchema, [1, 2])).status,
    ).toBe(400);
  });

  it('ignores unknown fields and accepts nulls for optional ones', () => {
    const body = parseBody(completionRequestSchema, {
      model: 'm',
      prompt: ['a', 'b'],
      max_tokens: null,
      frobnicate: true,
    });
    expect(body.prompt).toEqual(['a', 'b']);
    expect(body.max_tokens).toBeUndefined();
    expect('frobnicate' in body).toBe(false);
  });

  it('checks sampling extras against OpenAI ranges, naming the parameter', () => {
    const chat = (extra: object) => ({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      ...extra,
    });
    const param = (schema: 'chat' | 'completion', body: object) =>
      errorOf(() =>
        schema === 'chat'
          ? parseBody(chatCompletionRequestSchema, chat(body))
          : parseBody(completionRequestSchema, {
              model: 'm',
              prompt: 'x',
              ...body,
            }),
      ).param;
    expect(param('chat', { presence_penalty: 2.5 })).toBe('presence_penalty');
    expect(param('chat', { frequency_penalty: -3 })).toBe('frequency_penalty');
    expect(param('chat', { logit_bias: { '12': 101 } })).toBe('logit_bias.12');
    expect(param('chat', { top_logprobs: 21, logprobs: true })).toBe(
      'top_logprobs',
    );
    expect(param('completion', { logprobs: 6 })).toBe('logprobs');
  });

  it('requires logprobs: true for top_logprobs in chat', () => {
    const error = errorOf(() =>
      parseBody(chatCompletionRequestSchema, {
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        top_logprobs: 2,
      }),
    );
    expect(error.param).toBe('top_logprobs');
    expect(error.status).toBe(400);
    const ok = parseBody(chatCompletionRequestSchema, {
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      logprobs: true,
      top_logprobs: 2,
      logit_bias: { '7': -100 },
    });
    expect(ok.top_logprobs).toBe(2);
    expect(ok.logit_bias).toEqual({ '7': -100 });
  });
});
