import { ApiError } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { embeddingRequestSchema } from '../embeddings/embedding-request.schema';
import { chatCompletionRequestSchema } from './chat-completion-request.schema';
import { completionRequestSchema } from './completion-request.schema';
import { CHAT_COMPLETION_FIELDS, declaredKeys } from './request-fields';
import { parseBody } from './validate';

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

const chat = (extra: object) => ({
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});
const completion = (extra: object) => ({ model: 'm', prompt: 'hi', ...extra });
const tool = {
  type: 'function',
  function: { name: 'f', parameters: { type: 'object', properties: {} } },
};

describe('OpenAI fields Marquee does not implement', () => {
  it.each([
    ['audio', { voice: 'alloy', format: 'mp3' }, 'Audio output'],
    ['prediction', { type: 'content', content: 'x' }, 'Predicted outputs'],
    ['reasoning_effort', 'low', 'not reasoning models'],
    ['verbosity', 'low', 'verbosity'],
    ['web_search_options', {}, 'Web search'],
    ['functions', [{ name: 'f', parameters: {} }], "use 'tools'"],
    ['function_call', 'auto', "use 'tool_choice'"],
    ['prompt_cache_key', 'k', 'prompt cache'],
  ])(
    'refuses chat %s with 400 unsupported_parameter naming it and saying why',
    (field, value, why) => {
      const error = errorOf(() =>
        parseBody(chatCompletionRequestSchema, chat({ [field]: value })),
      );
      expect(error.status).toBe(400);
      expect(error.type).toBe('invalid_request_error');
      expect(error.param).toBe(field);
      expect(error.code).toBe('unsupported_parameter');
      expect(error.message).toContain(`'${field}'`);
      expect(error.message).toContain(why);
    },
  );

  it.each([
    ['modalities', ['text', 'audio']],
    ['store', true],
    ['metadata', { team: 'a' }],
    ['service_tier', 'flex'],
  ])(
    'refuses chat %s = %j with 400 unsupported_value naming it',
    (field, value) => {
      const error = errorOf(() =>
        parseBody(chatCompletionRequestSchema, chat({ [field]: value })),
      );
      expect(error.param).toBe(field);
      expect(error.code).toBe('unsupported_value');
      expect(error.message).toMatch(
        new RegExp(`^Unsupported value for '${field}': `),
      );
    },
  );

  it('accepts the values that change nothing, and null for any documented field', () => {
    const body = parseBody(
      chatCompletionRequestSchema,
      chat({
        modalities: ['text'],
        store: false,
        metadata: {},
        service_tier: 'auto',
        audio: null,
        prediction: null,
        reasoning_effort: null,
      }),
    );
    expect(Object.keys(body).sort()).toEqual(['messages', 'model']);
    expect(() =>
      parseBody(chatCompletionRequestSchema, chat({ service_tier: 'default' })),
    ).not.toThrow();
  });

  it.each([
    ['echo', true, 'unsupported_value'],
    ['suffix', ' and so on', 'unsupported_value'],
    ['best_of', 3, 'unsupported_value'],
  ])('refuses completions %s = %j naming it', (field, value, code) => {
    const error = errorOf(() =>
      parseBody(completionRequestSchema, completion({ [field]: value })),
    );
    expect(error).toMatchObject({ status: 400, param: field, code });
  });

  it('accepts echo false, an empty suffix and best_of equal to n', () => {
    const body = parseBody(
      completionRequestSchema,
      completion({ echo: false, suffix: '', best_of: 2, n: 2 }),
    );
    expect(body.n).toBe(2);
    expect('best_of' in body).toBe(false);
    expect(() =>
      parseBody(completionRequestSchema, completion({ best_of: 1 })),
    ).not.toThrow();
    expect(
      errorOf(() =>
        parseBody(completionRequestSchema, completion({ best_of: 2 })),
      ).message,
    ).toContain("set 'n' instead");
  });

  it('accepts user and safety_identifier everywhere (they go to the log line), bounded', () => {
    for (const [schema, body] of [
      [chatCompletionRequestSchema, chat({})],
      [completionRequestSchema, completion({})],
      [embeddingRequestSchema, { model: 'm', input: 'x' }],
    ] as const) {
      expect(
        parseBody(schema, { ...body, user: 'u-1', safety_identifier: 'h' }),
      ).toMatchObject({ user: 'u-1', safety_identifier: 'h' });
      expect(
        errorOf(() => parseBody(schema, { ...body, user: 'x'.repeat(300) })),
      ).toMatchObject({ param: 'user', code: 'invalid_value' });
    }
  });

  it('refuses chat-only fields on /v1/embeddings as unrecognized', () => {
    expect(
      errorOf(() =>
        parseBody(embeddingRequestSchema, {
          model: 'm',
          input: 'x',
          temperature: 1,
        }),
      ),
    ).toMatchObject({ param: 'temperature', code: 'unknown_parameter' });
  });
});

describe('what a body schema declares', () => {
  it('accepts a field once the schema declares it, whatever the table says of it', () => {
    const withTools = z
      .object({ model: z.string(), tools: z.array(z.unknown()) })
      .check(() => undefined);
    const body = parseBody(
      withTools,
      { model: 'm', tools: [tool] },
      CHAT_COMPLETION_FIELDS,
    );
    expect(body.tools).toEqual([tool]);
  });

  it('reads the keys through checks and transforms, and takes any key for a loose object', () => {
    expect([...(declaredKeys(chatCompletionRequestSchema) ?? [])]).toEqual(
      expect.arrayContaining(['model', 'messages', 'stop', 'logprobs']),
    );
    const piped = z
      .object({ a: z.string() })
      .transform((v) => ({ ...v, b: 1 }));
    expect([...(declaredKeys(piped) ?? [])]).toEqual(['a']);
    expect(declaredKeys(z.looseObject({ a: z.string() }))).toBeNull();
    expect(() => declaredKeys(z.string())).toThrow(/must be a zod object/);
  });
});

const person = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { name: { type: 'string' } },
  required: ['name'],
  additionalProperties: false,
};
const personTool = {
  type: 'function',
  function: { name: 'get_person', description: 'd', parameters: person },
};

// What the real clients send by default (captured from openai 7.55, @langchain/openai 1.6 and
// the AI SDK 7 with @ai-sdk/openai 4): none of it may be refused.
describe('the default bodies of the common clients', () => {
  it.each([
    ['openai chat', chat({})],
    ['openai chat stream', chat({ stream: true })],
    ['langchain invoke', chat({ stream: false })],
    [
      'langchain and AI SDK stream',
      chat({ stream: true, stream_options: { include_usage: true } }),
    ],
    [
      'AI SDK with settings',
      chat({ max_tokens: 10, temperature: 0.5, stop: ['x'], seed: 1 }),
    ],
    ['langchain bindTools', chat({ stream: false, tools: [personTool] })],
    [
      'langchain withStructuredOutput (functionCalling)',
      chat({
        stream: false,
        tools: [personTool],
        tool_choice: { type: 'function', function: { name: 'get_person' } },
      }),
    ],
    [
      'AI SDK generateText with tools',
      chat({ tools: [personTool], tool_choice: 'auto' }),
    ],
    [
      'langchain withStructuredOutput, AI SDK generateObject, openai parse',
      chat({
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'person', strict: true, schema: person },
        },
      }),
    ],
    [
      'langchain withStructuredOutput (jsonMode)',
      chat({ stream: false, response_format: { type: 'json_object' } }),
    ],
  ])('accepts %s', (_, body) => {
    expect(() => parseBody(chatCompletionRequestSchema, body)).not.toThrow();
  });

  it('accepts the completions and embeddings bodies', () => {
    expect(() =>
      parseBody(completionRequestSchema, completion({ stop: ['\nuser:'] })),
    ).not.toThrow();
    for (const encoding_format of ['base64', 'float'])
      expect(() =>
        parseBody(embeddingRequestSchema, {
          model: 'm',
          input: ['hi'],
          encoding_format,
        }),
      ).not.toThrow();
  });
});
