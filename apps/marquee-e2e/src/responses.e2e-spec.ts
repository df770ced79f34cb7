import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import Ajv from 'ajv';
import type {
  FunctionTool,
  Response as OpenAiResponse,
  ResponseCreateParamsNonStreaming,
  ResponseInput,
} from 'openai/resources/responses/responses';
import { z } from 'zod';
import { admin, openai, waitForUsageRow } from './support/clients';
import { rejectionOf } from './support/errors';
import { serveGeneratedModel } from './support/served-model';
import { e2eStack } from './support/stack';

const client = openai();
const { model: baseModel, origin, apiKey } = e2eStack();
/** A random-weight model with room for a tools preamble and a long JSON answer. */
const model = `${baseModel}-responses`;
const ajv = new Ajv({ allErrors: true });

const filmSchema = {
  type: 'object',
  properties: {
    title: { type: 'string', maxLength: 16 },
    year: { type: 'integer', minimum: 1900, maximum: 2030 },
    genre: { type: 'string', enum: ['thriller', 'comedy', 'drama'] },
  },
  required: ['title', 'year', 'genre'],
  additionalProperties: false,
};

const weatherTool: FunctionTool = {
  type: 'function',
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
  strict: true,
};

/** The JSON of `text`, checked against `schema`; fails the test with the text and ajv's errors. */
function expectValid(text: string, schema: object): unknown {
  const value: unknown = JSON.parse(text);
  const validate = ajv.compile(schema);
  if (!validate(value))
    throw new Error(
      `${text} does not match: ${ajv.errorsText(validate.errors)}`,
    );
  return value;
}

/** Creates a response and returns it with its request id. */
async function create(request: ResponseCreateParamsNonStreaming) {
  const { data, response } = await client.responses
    .create(request)
    .withResponse();
  return { response: data, requestId: response.headers.get('x-request-id') };
}

/** A tenant of its own with a key: what another customer would hold. */
async function otherTenantKey(): Promise<string> {
  const tenant = await admin('POST', '/tenants', {
    name: `responses-other-${Date.now()}`,
  });
  expect(tenant.status).toBe(201);
  const { id } = (await tenant.json()) as { id: string };
  const key = await admin('POST', `/tenants/${id}/keys`, { name: 'other' });
  expect(key.status).toBe(201);
  return ((await key.json()) as { key: string }).key;
}

let unserve: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ unserve } = await serveGeneratedModel(model, 11));
});

afterAll(async () => {
  await unserve?.();
});

describe('POST /v1/responses with the openai client', () => {
  it('answers a string input with a response object, an assistant message and usage, billed as responses', async () => {
    const { response, requestId } = await create({
      model,
      input: 'Pitch a thriller',
      max_output_tokens: 12,
    });
    expect(response.id).toBe(`resp_${requestId?.replace(/^req_/, '')}`);
    expect(response.object).toBe('response');
    expect(response.model).toBe(model);
    expect(response.error).toBeNull();
    expect(response).toMatchObject({ store: true });
    expect(response.output).toHaveLength(1);
    const [message] = response.output;
    expect(message).toMatchObject({
      type: 'message',
      id: expect.stringMatching(/^msg_/),
      role: 'assistant',
      content: [{ type: 'output_text', annotations: [] }],
    });
    expect(typeof response.output_text).toBe('string');
    const usage = response.usage;
    expect(usage?.output_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe(
      (usage?.input_tokens ?? 0) + (usage?.output_tokens ?? 0),
    );
    const row = await waitForUsageRow(requestId ?? '');
    expect(row).toMatchObject({
      endpoint: 'responses',
      prompt_tokens: usage?.input_tokens,
      completion_tokens: usage?.output_tokens,
    });
  });

  it('puts the instructions first and takes message items, echoing the instructions', async () => {
    const input: ResponseInput = [
      { role: 'user', content: 'Pitch a thriller' },
      // An earlier output item, sent back as it came.
      {
        type: 'message',
        id: 'msg_earlier',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'A heist.', annotations: [] }],
      },
      { role: 'user', content: [{ type: 'input_text', text: 'Shorter.' }] },
    ];
    const plain = await create({ model, input, max_output_tokens: 4 });
    const instructed = await create({
      model,
      input,
      instructions: 'You pitch films in one line.',
      max_output_tokens: 4,
    });
    expect(instructed.response.instructions).toBe(
      'You pitch films in one line.',
    );
    expect(instructed.response.usage?.input_tokens).toBeGreaterThan(
      plain.response.usage?.input_tokens ?? Infinity,
    );
  });

  it('stops at max_output_tokens with status incomplete and reason max_output_tokens', async () => {
    const { response } = await create({
      model,
      input: 'Tell a long story',
      max_output_tokens: 5,
      // Greedy, so the same tokens every run: this model does not end this text within 5.
      temperature: 0,
    });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({
      reason: 'max_output_tokens',
    });
    expect(response.usage?.output_tokens).toBe(5);
    expect(response.output[0]).toMatchObject({ status: 'incomplete' });
  });

  it('streams the typed events in order; the deltas join into finalResponse()', async () => {
    const stream = client.responses.stream({
      model,
      input: 'Pitch a comedy',
      max_output_tokens: 16,
    });
    const types: string[] = [];
    const sequence: number[] = [];
    let deltas = '';
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') deltas += event.delta;
    }
    const response = await stream.finalResponse();
    expect(sequence).toEqual(sequence.map((_, i) => i));
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      response.status === 'completed'
        ? 'response.completed'
        : 'response.incomplete',
    ]);
    expect(types).toContain('response.output_text.delta');
    expect(deltas).toBe(response.output_text);
    expect(response.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(response.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('text.format json_schema: the output parses and matches the schema', async () => {
    const { response } = await create({
      model,
      input: 'Describe a film as JSON.',
      text: {
        format: {
          type: 'json_schema',
          name: 'film',
          schema: filmSchema,
          strict: true,
        },
      },
      max_output_tokens: 300,
    });
    expect(response.status).toBe('completed');
    expect(response.text?.format).toMatchObject({
      type: 'json_schema',
      name: 'film',
    });
    expectValid(response.output_text, filmSchema);
  });

  it("function tools with tool_choice 'required': function_call items whose arguments parse and match", async () => {
    const { response, requestId } = await create({
      model,
      input: 'What is the weather in Lisbon?',
      tools: [weatherTool],
      tool_choice: 'required',
      // One call, so the answer always ends (the Responses API has no seed; with parallel calls
      // a random model may keep adding calls until max tokens).
      parallel_tool_calls: false,
      max_output_tokens: 300,
    });
    expect(response.status).toBe('completed');
    const calls = response.output.filter((o) => o.type === 'function_call');
    expect(calls).toHaveLength(1);
    for (const call of calls) {
      expect(call).toMatchObject({
        id: expect.stringMatching(/^fc_/),
        call_id: expect.stringMatching(/^call_/),
        name: 'get_weather',
        status: 'completed',
      });
      expectValid(call.arguments, weatherTool.parameters ?? {});
    }
    expect(response.tools).toEqual([weatherTool]);
    expect((await waitForUsageRow(requestId ?? '')).endpoint).toBe('responses');
  });

  it('refuses a schema the grammar cannot compile, naming text.format.schema', async () => {
    const error = await rejectionOf(
      client.responses.create({
        model,
        input: 'hi',
        text: {
          format: {
            type: 'json_schema',
            name: 'broken',
            schema: { type: 'object', properties: { a: { $ref: '#/nope' } } },
          },
        },
      }),
    );
    expect(error).toMatchObject({ status: 400, param: 'text.format.schema' });
  });

  it('refuses a built-in tool and a reasoning effort with a 400 naming them', async () => {
    expect(
      await rejectionOf(
        client.responses.create({
          model,
          input: 'hi',
          tools: [{ type: 'web_search' }],
        }),
      ),
    ).toMatchObject({ status: 400, param: 'tools[0].type' });
    expect(
      await rejectionOf(
        client.responses.create({
          model,
          input: 'hi',
          reasoning: { effort: 'high' },
        }),
      ),
    ).toMatchObject({ status: 400, param: 'reasoning' });
  });
});

describe('stored responses', () => {
  it('previous_response_id continues the stored conversation: the prompt holds its input and output', async () => {
    const first = await create({
      model,
      input: 'Pitch a heist film',
      max_output_tokens: 8,
    });
    const alone = await create({
      model,
      input: 'Shorter.',
      max_output_tokens: 2,
    });
    const next = await create({
      model,
      previous_response_id: first.response.id,
      input: 'Shorter.',
      max_output_tokens: 2,
    });
    expect(next.response.previous_response_id).toBe(first.response.id);
    const firstUsage = first.response.usage;
    expect(next.response.usage?.input_tokens).toBeGreaterThan(
      (alone.response.usage?.input_tokens ?? Infinity) +
        (firstUsage?.output_tokens ?? 0),
    );
  });

  it("an item_reference brings a stored output item into the input, and another tenant's item is 404", async () => {
    const first = await create({
      model,
      input: 'Pitch a heist film',
      max_output_tokens: 8,
    });
    const itemId = first.response.output[0].id ?? '';
    const more = [{ role: 'user' as const, content: 'Shorter.' }];
    const alone = await create({ model, input: more, max_output_tokens: 2 });
    const referenced = await create({
      model,
      input: [{ type: 'item_reference', id: itemId }, ...more],
      max_output_tokens: 2,
    });
    expect(referenced.response.usage?.input_tokens).toBeGreaterThan(
      (alone.response.usage?.input_tokens ?? Infinity) +
        (first.response.usage?.output_tokens ?? 0) -
        1,
    );
    const other = openai(await otherTenantKey());
    expect(
      await rejectionOf(
        other.responses.create({
          model,
          input: [{ type: 'item_reference', id: itemId }, ...more],
        }),
      ),
    ).toMatchObject({ status: 404, param: 'input[0].id' });
  });

  it('GET /v1/responses/{id} returns the stored response as it was created', async () => {
    const { response } = await create({
      model,
      input: 'Pitch a drama',
      max_output_tokens: 6,
      metadata: { scene: '12' },
    });
    const stored: OpenAiResponse = await client.responses.retrieve(response.id);
    expect(stored).toEqual(response);
    expect(stored.metadata).toEqual({ scene: '12' });
  });

  it('store: false keeps nothing: the response cannot be retrieved or continued', async () => {
    const { response } = await create({
      model,
      input: 'Pitch a western',
      max_output_tokens: 4,
      store: false,
    });
    expect(response).toMatchObject({ store: false });
    expect(
      await rejectionOf(client.responses.retrieve(response.id)),
    ).toMatchObject({ status: 404 });
    expect(
      await rejectionOf(
        client.responses.create({
          model,
          previous_response_id: response.id,
          input: 'More.',
        }),
      ),
    ).toMatchObject({
      status: 400,
      param: 'previous_response_id',
      code: 'previous_response_not_found',
    });
  });

  it("answers another tenant's key with a 404 exactly like a missing id, and DELETE removes it for its owner only", async () => {
    const { response } = await create({
      model,
      input: 'Pitch a musical',
      max_output_tokens: 4,
    });
    const other = openai(await otherTenantKey());
    const missingId = `resp_${'0'.repeat(32)}`;
    const foreign = (await rejectionOf(
      other.responses.retrieve(response.id),
    )) as { status: number; error: object };
    const missing = (await rejectionOf(
      client.responses.retrieve(missingId),
    )) as { status: number; error: object };
    expect(foreign.status).toBe(404);
    expect(JSON.stringify(foreign.error).replace(response.id, 'ID')).toBe(
      JSON.stringify(missing.error).replace(missingId, 'ID'),
    );
    expect(
      await rejectionOf(other.responses.delete(response.id)),
    ).toMatchObject({ status: 404 });
    expect((await client.responses.retrieve(response.id)).id).toBe(response.id);

    await client.responses.delete(response.id);
    expect(
      await rejectionOf(client.responses.retrieve(response.id)),
    ).toMatchObject({ status: 404 });
  });

  it("refuses another tenant's response as previous_response_id, as a missing one", async () => {
    const { response } = await create({
      model,
      input: 'Pitch a noir',
      max_output_tokens: 4,
    });
    const other = openai(await otherTenantKey());
    expect(
      await rejectionOf(
        other.responses.create({
          model,
          previous_response_id: response.id,
          input: 'More.',
        }),
      ),
    ).toMatchObject({ status: 400, code: 'previous_response_not_found' });
  });
});

describe('Vercel AI SDK default provider (/v1/responses)', () => {
  const provider = createOpenAI({ baseURL: `${origin}/v1`, apiKey });
  const Weather = z.object({
    city: z.string().max(12),
    unit: z.enum(['c', 'f']),
  });

  it('generateText returns the text and its usage', async () => {
    const result = await generateText({
      model: provider(model),
      system: 'You pitch films.',
      prompt: 'Pitch a thriller',
      maxOutputTokens: 8,
      // Greedy: the same 8 tokens every run, none of them the end of the text.
      temperature: 0,
      maxRetries: 0,
    });
    expect(typeof result.text).toBe('string');
    expect(result.finishReason).toBe('length');
    expect(result.usage.outputTokens).toBe(8);
    expect(result.response.id).toMatch(/^resp_/);
  });

  it('streamText streams the same kind of answer: deltas joining into the text, usage at the end', async () => {
    const result = streamText({
      model: provider(model),
      prompt: 'Pitch a comedy',
      maxOutputTokens: 8,
      temperature: 0,
      maxRetries: 0,
    });
    let deltas = '';
    for await (const delta of result.textStream) deltas += delta;
    expect(deltas).toBe(await result.text);
    expect(await result.finishReason).toBe('length');
    expect((await result.usage).outputTokens).toBe(8);
  });

  // generateObject and generateText with a required tool: client-libraries.e2e-spec.ts, for
  // this provider and the chat one.

  it('runs a second step with the tool results: function_call and function_call_output items', async () => {
    // The bodies the provider sends, to see what the second step carries.
    const sent: { input: { type?: string }[] }[] = [];
    const recording = createOpenAI({
      baseURL: `${origin}/v1`,
      apiKey,
      fetch: async (url, init) => {
        sent.push(JSON.parse(String(init?.body)) as (typeof sent)[number]);
        return fetch(url, init);
      },
    });
    const result = await generateText({
      model: recording(model),
      prompt: 'Weather in Rome?',
      tools: {
        get_weather: tool({
          description: 'Weather in a city',
          inputSchema: Weather,
          execute: async () => '31 and sunny',
        }),
      },
      // One call, then an answer in text that reads its result.
      prepareStep: ({ stepNumber }) => ({
        toolChoice: stepNumber === 0 ? 'required' : 'none',
      }),
      providerOptions: { openai: { parallelToolCalls: false } },
      stopWhen: stepCountIs(2),
      maxOutputTokens: 200,
      maxRetries: 0,
    });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0].toolResults).toHaveLength(1);
    expect(sent).toHaveLength(2);
    expect(sent[1].input.map((i) => i.type ?? 'message')).toEqual([
      'message',
      'function_call',
      'function_call_output',
    ]);
    expect(result.steps[1].response.id).toMatch(/^resp_/);
  });
});
