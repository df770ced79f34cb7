import { ApiError } from '@marquee/gateway/util-http';
import { chatCompletionRequestSchema } from './chat-completion-request.schema';
import { completionRequestSchema } from './completion-request.schema';
import { embeddingRequestSchema } from '../embeddings/embedding-request.schema';
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

  it('accepts nulls for optional fields', () => {
    const body = parseBody(completionRequestSchema, {
      model: 'm',
      prompt: ['a', 'b'],
      max_tokens: null,
      stop: null,
    });
    expect(body.prompt).toEqual(['a', 'b']);
    expect(body.max_tokens).toBeUndefined();
    expect(body.stop).toBeUndefined();
  });

  it('refuses a field OpenAI does not have with 400 unknown_parameter naming it', () => {
    const error = errorOf(() =>
      parseBody(completionRequestSchema, {
        model: 'm',
        prompt: 'x',
        frobnicate: true,
      }),
    );
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'Unrecognized request argument supplied: frobnicate',
    );
    expect(error.param).toBe('frobnicate');
    expect(error.code).toBe('unknown_parameter');
    // Even as null, and before any other problem of the body.
    expect(
      errorOf(() => parseBody(completionRequestSchema, { frobnicate: null }))
        .param,
    ).toBe('frobnicate');
  });

  it('refuses an unknown stream option, naming it in full', () => {
    const error = errorOf(() =>
      parseBody(completionRequestSchema, {
        model: 'm',
        prompt: 'x',
        stream: true,
        stream_options: { include_usage: true, include_usages: true },
      }),
    );
    expect(error.message).toBe(
      'Unrecognized request argument supplied: stream_options.include_usages',
    );
    expect(error.param).toBe('stream_options.include_usages');
    expect(
      errorOf(() =>
        parseBody(completionRequestSchema, {
          model: 'm',
          prompt: 'x',
          stream_options: { include_obfuscation: true },
        }),
      ).param,
    ).toBe('stream_options.include_obfuscation');
    expect(
      parseBody(completionRequestSchema, {
        model: 'm',
        prompt: 'x',
        stream_options: { include_usage: true, include_obfuscation: false },
      }).stream_options,
    ).toEqual({ include_usage: true, include_obfuscation: false });
  });

  it('names the limit when there are more than 4 stop strings', () => {
    const error = errorOf(() =>
      parseBody(chatCompletionRequestSchema, {
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        stop: ['a', 'b', 'c', 'd', 'e'],
      }),
    );
    expect(error.param).toBe('stop');
    expect(error.message).toBe(
      "Invalid value for 'stop': at most 4 stop sequences",
    );
  });

  it('reports the broken rule of the union branch the value was meant for', () => {
    const completion = (prompt: unknown) =>
      errorOf(() => parseBody(completionRequestSchema, { model: 'm', prompt }));
    expect(completion(Array(2049).fill('x')).message).toBe(
      "Invalid value for 'prompt': at most 2048 prompts",
    );
    expect(completion([[1, -2]])).toMatchObject({
      param: 'prompt[0][1]',
      message: "Invalid value for 'prompt[0][1]': token ids are non-negative",
    });
    expect(completion([]).message).toBe(
      "Invalid value for 'prompt': must not be empty",
    );
    // Neither a list of strings nor of token ids: the union's own message.
    expect(completion(['a', 1])).toMatchObject({
      param: 'prompt',
      message:
        "Invalid value for 'prompt': expected a string, an array of strings, or token ids",
    });
    const stop = (value: unknown) =>
      errorOf(() =>
        parseBody(completionRequestSchema, {
          model: 'm',
          prompt: 'x',
          stop: value,
        }),
      );
    expect(stop('').message).toBe(
      "Invalid value for 'stop': stop strings must not be empty",
    );
    expect(stop(['a', 7]).param).toBe('stop[1]');
    expect(stop(7).message).toBe(
      "Invalid value for 'stop': expected a string or an array of strings",
    );
    expect(
      errorOf(() =>
        parseBody(embeddingRequestSchema, {
          model: 'm',
          input: Array(2049).fill('x'),
        }),
      ).message,
    ).toBe("Invalid value for 'input': at most 2048 inputs");
    expect(
      errorOf(() =>
        parseBody(chatCompletionRequestSchema, {
          model: 'm',
          messages: [{ role: 'user', content: [] }],
        }),
      ),
    ).toMatchObject({
      param: 'messages[0].content',
      message: "Invalid value for 'messages[0].content': must not be empty",
    });
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
