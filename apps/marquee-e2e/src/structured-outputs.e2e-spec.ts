import Ajv from 'ajv';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { openai, waitForUsageRow } from './support/clients';
import { rejectionOf } from './support/errors';
import { serveGeneratedModel } from './support/served-model';
import { e2eStack } from './support/stack';

const client = openai();
const { model: baseModel } = e2eStack();
/** A random-weight model with room for a tools preamble and a long JSON answer. */
const model = `${baseModel}-structured`;
const ajv = new Ajv({ allErrors: true });

/** Nesting, enums, arrays, required fields, bounded strings and integer ranges. */
const filmSchema = {
  type: 'object',
  properties: {
    title: { type: 'string', maxLength: 16 },
    year: { type: 'integer', minimum: 1900, maximum: 2030 },
    genre: { type: 'string', enum: ['thriller', 'comedy', 'drama'] },
    cast: {
      type: 'array',
      minItems: 1,
      maxItems: 3,
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: 10 },
          lead: { type: 'boolean' },
        },
        required: ['name', 'lead'],
        additionalProperties: false,
      },
    },
  },
  required: ['title', 'year', 'genre', 'cast'],
  additionalProperties: false,
};

const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather at a filming location',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', maxLength: 12 },
        unit: { type: 'string', enum: ['c', 'f'] },
      },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
};
const bookTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'book_room',
    parameters: {
      type: 'object',
      properties: {
        nights: { type: 'integer', minimum: 1, maximum: 9 },
        names: {
          type: 'array',
          items: { type: 'string', maxLength: 8 },
          maxItems: 2,
        },
      },
      required: ['nights', 'names'],
      additionalProperties: false,
    },
  },
};
const tools = [weatherTool, bookTool];
const parametersOf = new Map(
  tools.map((t) => [t.function.name, t.function.parameters]),
);

const ask = (content: string) => [{ role: 'user' as const, content }];

/** The JSON of `text`, checked against `schema`; fails the test with the text and ajv's errors. */
function expectValid(text: string | null | undefined, schema: object) {
  expect(typeof text).toBe('string');
  let value: unknown;
  expect(() => (value = JSON.parse(text as string))).not.toThrow();
  const validate = ajv.compile(schema);
  if (!validate(value))
    throw new Error(
      `${text} does not match: ${ajv.errorsText(validate.errors)}`,
    );
  return value;
}

/** Every call is to an offered function, with arguments that parse and match its parameters. */
function expectValidCalls(choice: ChatCompletion.Choice) {
  const calls = choice.message.tool_calls ?? [];
  for (const call of calls) {
    expect(call.type).toBe('function');
    expect(call.id).toMatch(/^call_/);
    if (call.type !== 'function') continue;
    const parameters = parametersOf.get(call.function.name);
    expect(parameters).toBeDefined();
    expectValid(call.function.arguments, parameters as object);
  }
  return calls;
}

let unserve: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ unserve } = await serveGeneratedModel(model, 7));
});

afterAll(async () => {
  await unserve?.();
});

describe('response_format', () => {
  it('json_schema: every choice parses and matches the schema, whatever the seed', async () => {
    const responses = await Promise.all(
      [1, 2, 3].map((seed) =>
        client.chat.completions.create({
          model,
          messages: ask('Describe a film as JSON.'),
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'film', schema: filmSchema, strict: true },
          },
          n: 2,
          seed,
          temperature: 1,
          max_tokens: 400,
        }),
      ),
    );
    for (const response of responses)
      for (const choice of response.choices) {
        expect(choice.finish_reason).toBe('stop');
        expectValid(choice.message.content, filmSchema);
        // Compact: no whitespace outside strings.
        expect(choice.message.content).toBe(
          JSON.stringify(JSON.parse(choice.message.content ?? '')),
        );
      }
  });

  it('json_schema streamed: the deltas join into the same valid JSON as the whole answer', async () => {
    const request: ChatCompletionCreateParamsNonStreaming = {
      model,
      messages: ask('A film, as JSON.'),
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'film', schema: filmSchema },
      },
      seed: 11,
      temperature: 1,
      max_tokens: 400,
    };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('stop');
    expect(text).toBe(whole.choices[0].message.content);
    expectValid(text, filmSchema);
  });

  it('json_object: the answer is a JSON object', async () => {
    const response = await client.chat.completions.create({
      model,
      messages: ask('Reply in JSON.'),
      response_format: { type: 'json_object' },
      seed: 5,
      temperature: 0.7,
      max_tokens: 300,
    });
    const choice = response.choices[0];
    // An unbounded object may run out of tokens; what was generated is still a JSON prefix.
    if (choice.finish_reason === 'stop')
      expect(expectValid(choice.message.content, { type: 'object' })).toEqual(
        expect.any(Object),
      );
    else expect(choice.message.content?.startsWith('{')).toBe(true);
  });

  it('leaves unconstrained requests in the same batch as they would be alone', async () => {
    const free: ChatCompletionCreateParamsNonStreaming = {
      model,
      messages: ask('Pitch a heist film.'),
      seed: 99,
      temperature: 1,
      max_tokens: 40,
    };
    const alone = await client.chat.completions.create(free);
    const [together, ...constrained] = await Promise.all([
      client.chat.completions.create(free),
      ...[21, 22, 23].map((seed) =>
        client.chat.completions.create({
          model,
          messages: ask('JSON please.'),
          response_format: {
            type: 'json_schema' as const,
            json_schema: { name: 'film', schema: filmSchema },
          },
          seed,
          max_tokens: 400,
        }),
      ),
    ]);
    expect(together.choices[0].message.content).toBe(
      alone.choices[0].message.content,
    );
    for (const r of constrained)
      expectValid(r.choices[0].message.content, filmSchema);
  });

  it.each([
    [{ type: 'bogus' }, 'response_format.type'],
    [{ type: 'json_schema' }, 'response_format.json_schema'],
    [
      { type: 'json_schema', json_schema: { name: 'has space', schema: {} } },
      'response_format.json_schema.name',
    ],
  ])('refuses %j with a 400 naming %s', async (format, param) => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model,
        messages: ask('hi'),
        response_format: format as never,
      }),
    );
    expect(error).toMatchObject({ status: 400, param });
  });

  it('refuses a schema the grammar cannot compile, naming the schema', async () => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model,
        messages: ask('hi'),
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'broken',
            schema: { type: 'object', properties: { a: { $ref: '#/nope' } } },
          },
        },
      }),
    );
    expect(error).toMatchObject({
      status: 400,
      param: 'response_format.json_schema.schema',
    });
  });
});

describe('tool calling', () => {
  it("tool_choice 'required': calls that parse and match their function, finish_reason tool_calls, billed", async () => {
    for (const seed of [1, 2, 3]) {
      const { data: response, response: raw } = await client.chat.completions
        .create({
          model,
          messages: ask('What is the weather in Lisbon, and book me a room.'),
          tools,
          tool_choice: 'required',
          seed,
          temperature: 1,
          max_tokens: 300,
        })
        .withResponse();
      const choice = response.choices[0];
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.content).toBeNull();
      expect(expectValidCalls(choice).length).toBeGreaterThanOrEqual(1);
      const row = await waitForUsageRow(raw.headers.get('x-request-id') ?? '');
      expect(row.completion_tokens).toBe(response.usage?.completion_tokens);
    }
  });

  it('a named function with parallel_tool_calls false: exactly one call, to that function', async () => {
    for (const seed of [4, 5]) {
      const response = await client.chat.completions.create({
        model,
        messages: ask('Book two nights.'),
        tools,
        tool_choice: { type: 'function', function: { name: 'book_room' } },
        parallel_tool_calls: false,
        seed,
        max_tokens: 300,
      });
      const calls = expectValidCalls(response.choices[0]);
      expect(calls).toHaveLength(1);
      expect(calls[0].type === 'function' && calls[0].function.name).toBe(
        'book_room',
      );
    }
  });

  it("tool_choice 'auto': the model's own choice decides, and any call it makes is valid", async () => {
    const responses = await Promise.all(
      [1, 2, 3, 4].map((seed) =>
        client.chat.completions.create({
          model,
          messages: ask('Weather in Porto?'),
          tools,
          seed,
          temperature: 1,
          max_tokens: 120,
        }),
      ),
    );
    for (const response of responses) {
      const choice = response.choices[0];
      const calls = expectValidCalls(choice);
      if (calls.length > 0) expect(choice.finish_reason).toBe('tool_calls');
      else expect(typeof choice.message.content).toBe('string');
    }
  });

  it('streams tool calls as OpenAI frames them: an id and name first, then argument fragments', async () => {
    const request: ChatCompletionCreateParamsNonStreaming = {
      model,
      messages: ask('Weather in Oslo?'),
      tools,
      tool_choice: 'required',
      seed: 8,
      temperature: 1,
      max_tokens: 300,
    };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
    });
    const calls: { id?: string; name?: string; arguments: string }[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      finish = choice?.finish_reason ?? finish;
      for (const d of choice?.delta.tool_calls ?? []) {
        if (!calls[d.index]) {
          // The first delta of a call carries its id, type and name.
          expect(d.id).toMatch(/^call_/);
          expect(d.type).toBe('function');
          calls[d.index] = { id: d.id, name: d.function?.name, arguments: '' };
        } else expect(d.id).toBeUndefined();
        calls[d.index].arguments += d.function?.arguments ?? '';
      }
    }
    expect(finish).toBe('tool_calls');
    expect(
      calls.map((c) => ({ name: c.name, arguments: c.arguments })),
    ).toEqual(
      (whole.choices[0].message.tool_calls ?? []).map((c) =>
        c.type === 'function'
          ? { name: c.function.name, arguments: c.function.arguments }
          : null,
      ),
    );
  });

  it('accepts the calls and the tool results in the history, rendered into the prompt', async () => {
    const history = [
      ...ask('Weather in Rome?'),
      {
        role: 'assistant' as const,
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function' as const,
            function: {
              name: 'get_weather',
              arguments: '{"city":"Rome","unit":"c"}',
            },
          },
        ],
      },
      {
        role: 'tool' as const,
        tool_call_id: 'call_1',
        content: '31 and sunny',
      },
    ];
    const withResult = await client.chat.completions.create({
      model,
      messages: history,
      tools,
      max_tokens: 5,
    });
    const withoutResult = await client.chat.completions.create({
      model,
      messages: history.slice(0, 2),
      tools,
      max_tokens: 5,
    });
    expect(withResult.usage?.prompt_tokens).toBeGreaterThan(
      withoutResult.usage?.prompt_tokens ?? Infinity,
    );
  });

  it.each([
    [{ tool_choice: 'required' }, 'tool_choice'],
    [
      {
        tools,
        tool_choice: { type: 'function', function: { name: 'nope' } },
      },
      'tool_choice',
    ],
    [{ tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0].type'],
    [{ tools, response_format: { type: 'json_object' } }, 'response_format'],
  ])('refuses %j with a 400 naming %s', async (extra, param) => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model,
        messages: ask('hi'),
        ...(extra as object),
      } as ChatCompletionCreateParamsNonStreaming),
    );
    expect(error).toMatchObject({ status: 400, param });
  });
});

describe('message content', () => {
  it.each([
    [{ role: 'user', content: null }, 'messages[0].content'],
    [{ role: 'user' }, 'messages[0].content'],
    [{ role: 'assistant', content: null }, 'messages[0].content'],
    [{ role: 'tool', content: 'x' }, 'messages[0].tool_call_id'],
    // Nested fields are held to the same rule as top-level ones: none is dropped.
    [
      { role: 'user', content: 'x', cache_control: {} },
      'messages[0].cache_control',
    ],
  ])('refuses %j with a 400 naming %s', async (message, param) => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model,
        messages: [message as never],
      }),
    );
    expect(error).toMatchObject({ status: 400, param });
  });
});
