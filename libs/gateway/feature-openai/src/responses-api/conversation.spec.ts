import { ApiError } from '@marquee/gateway/util-http';
import { parseBody } from '../schemas/validate';
import {
  type ConversationItem,
  conversationOf,
  conversationPrompt,
} from './conversation';
import { RESPONSE_FIELDS } from './response-fields';
import { responseRequestSchema } from './response-request.schema';

const parse = (body: object) =>
  parseBody(responseRequestSchema, { model: 'tiny', ...body }, RESPONSE_FIELDS);

const noItems = async () => null;

/** The worker's chat prompt for a request body (no stored items, no tools). */
async function promptOf(body: object) {
  const request = parse(body);
  return conversationPrompt(
    request.instructions,
    await conversationOf(request.input, noItems),
    undefined,
  );
}

describe('input -> chat prompt', () => {
  it('makes a string input one user message, after the instructions as a system message', async () => {
    expect(
      await promptOf({ input: 'Pitch a thriller', instructions: 'Be brief.' }),
    ).toEqual({
      kind: 'chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Pitch a thriller' },
      ],
    });
  });

  it('takes messages with or without type, text parts joined, developer as system', async () => {
    const prompt = await promptOf({
      input: [
        { role: 'developer', content: 'Rules.' },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'Hello ' },
            { type: 'input_text', text: 'there' },
          ],
        },
        {
          type: 'message',
          role: 'assistant',
          id: 'msg_1',
          status: 'completed',
          content: [
            {
              type: 'output_text',
              text: 'Hi.',
              annotations: [],
              logprobs: [],
            },
          ],
        },
      ],
    });
    expect(prompt).toEqual({
      kind: 'chat',
      messages: [
        { role: 'system', content: 'Rules.' },
        { role: 'user', content: 'Hello there' },
        { role: 'assistant', content: 'Hi.' },
      ],
    });
  });

  it('renders what the AI SDK sends in multi-step tool use: calls join the assistant turn, outputs answer them', async () => {
    const prompt = await promptOf({
      input: [
        {
          role: 'user',
          content: [{ type: 'input_text', text: 'Weather in Rome and Oslo?' }],
        },
        { role: 'assistant', content: 'Checking.' },
        {
          type: 'function_call',
          call_id: 'call_a',
          name: 'get_weather',
          arguments: '{"city":"Rome"}',
        },
        {
          type: 'function_call',
          call_id: 'call_b',
          name: 'get_weather',
          arguments: '{"city":"Oslo"}',
        },
        { type: 'function_call_output', call_id: 'call_a', output: '31 C' },
        {
          type: 'function_call_output',
          call_id: 'call_b',
          output: [{ type: 'input_text', text: '4 C' }],
        },
      ],
    });
    expect(prompt).toEqual({
      kind: 'chat',
      messages: [
        { role: 'user', content: 'Weather in Rome and Oslo?' },
        {
          role: 'assistant',
          content: 'Checking.',
          toolCalls: [
            { id: 'call_a', name: 'get_weather', arguments: '{"city":"Rome"}' },
            { id: 'call_b', name: 'get_weather', arguments: '{"city":"Oslo"}' },
          ],
        },
        { role: 'tool', content: '31 C', toolCallId: 'call_a' },
        { role: 'tool', content: '4 C', toolCallId: 'call_b' },
      ],
    });
  });

  it('opens an assistant turn for a call that follows a tool result', async () => {
    const prompt = await promptOf({
      input: [
        { role: 'user', content: 'Go' },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'ok' },
        { type: 'function_call', call_id: 'c2', name: 'g', arguments: '{}' },
      ],
    });
    expect(prompt.kind === 'chat' && prompt.messages).toEqual([
      { role: 'user', content: 'Go' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }],
      },
      { role: 'tool', content: 'ok', toolCallId: 'c1' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'c2', name: 'g', arguments: '{}' }],
      },
    ]);
  });

  it('resolves item references through the lookup, and answers 404 naming the item otherwise', async () => {
    const stored: ConversationItem = {
      type: 'message',
      role: 'assistant',
      content: 'Earlier answer.',
    };
    const lookup = async (id: string) => (id === 'msg_known' ? stored : null);
    const { input } = parse({
      input: [
        { type: 'item_reference', id: 'msg_known' },
        { role: 'user', content: 'And?' },
      ],
    });
    expect(await conversationOf(input, lookup)).toEqual([
      stored,
      { type: 'message', role: 'user', content: 'And?' },
    ]);
    const missing = parse({
      input: [
        { role: 'user', content: 'x' },
        { type: 'item_reference', id: 'msg_other' },
      ],
    }).input;
    await expect(conversationOf(missing, lookup)).rejects.toMatchObject({
      status: 404,
      param: 'input[1].id',
      message: "Item with id 'msg_other' not found.",
    });
  });

  it('refuses an empty conversation with a 400 on input', async () => {
    await expect(promptOf({ input: [] })).rejects.toMatchObject({
      status: 400,
      param: 'input',
    });
    expect(await promptOf({ input: [], instructions: 'Say hi.' })).toEqual({
      kind: 'chat',
      messages: [{ role: 'system', content: 'Say hi.' }],
    });
  });
});

describe('POST /v1/responses body', () => {
  const refusal = (body: object) => {
    try {
      parse(body);
    } catch (error) {
      if (error instanceof ApiError)
        return { status: error.status, param: error.param, code: error.code };
      throw error;
    }
    throw new Error('expected a 400');
  };

  it.each([
    [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    [
      {
        tools: [{ type: 'function', name: 'f' }],
        tool_choice: { type: 'web_search_preview' },
      },
      'tool_choice',
    ],
    [
      {
        tools: [{ type: 'function', name: 'f' }],
        tool_choice: { type: 'function', name: 'g' },
      },
      'tool_choice',
    ],
    [{ tool_choice: 'required' }, 'tool_choice'],
    [
      {
        tools: [{ type: 'function', name: 'f', parameters: { type: 'array' } }],
      },
      'tools[0].parameters',
    ],
    [
      {
        tools: [{ type: 'function', name: 'f' }],
        text: { format: { type: 'json_object' } },
      },
      'text.format',
    ],
    [
      { text: { format: { type: 'json_schema', name: 'a b' } } },
      'text.format.name',
    ],
    [{ text: { verbosity: 'low' } }, 'text.verbosity'],
    [{ text: { bogus: 1 } }, 'text.bogus'],
    [{ input: [{ type: 'reasoning', summary: [] }] }, 'input[0].type'],
    [
      {
        input: [
          {
            role: 'user',
            content: [{ type: 'input_image', image_url: 'x' }],
          },
        ],
      },
      'input[0].content[0].type',
    ],
    [
      {
        input: [
          { role: 'user', content: [{ type: 'output_text', text: 'x' }] },
        ],
      },
      'input[0].content[0].type',
    ],
    [{ metadata: { a: 1 } }, 'metadata.a'],
    [
      { stream_options: { include_obfuscation: true } },
      'stream_options.include_obfuscation',
    ],
  ])('refuses %j with a 400 naming %s', (extra, param) => {
    expect(refusal({ input: 'hi', ...extra })).toMatchObject({
      status: 400,
      param,
    });
  });

  it.each([
    ['reasoning', { effort: 'low' }],
    ['truncation', 'auto'],
    ['include', ['message.output_text.logprobs']],
    ['background', true],
    ['conversation', 'conv_1'],
    ['prompt', { id: 'pmpt_1' }],
    ['prompt_cache_key', 'k'],
    ['top_logprobs', 3],
  ])('refuses OpenAI field %s = %j, naming it', (field, value) => {
    expect(refusal({ input: 'hi', [field]: value })).toMatchObject({
      status: 400,
      param: field,
      code: expect.stringMatching(/^unsupported_(parameter|value)$/),
    });
  });

  it.each([
    ['reasoning', {}],
    ['reasoning', { effort: null, summary: null }],
    ['truncation', 'disabled'],
    ['include', []],
    ['background', false],
    ['service_tier', 'auto'],
    ['top_logprobs', 0],
  ])('accepts %s = %j, which changes nothing', (field, value) => {
    expect(() => parse({ input: 'hi', [field]: value })).not.toThrow();
  });

  it('refuses a field OpenAI does not document as an unrecognized argument', () => {
    expect(refusal({ input: 'hi', seed: 1 })).toEqual({
      status: 400,
      param: 'seed',
      code: 'unknown_parameter',
    });
  });

  it('requires model and input', () => {
    expect(
      refusal({ model: undefined, input: 'hi' } as unknown as object),
    ).toMatchObject({ param: 'model', code: 'missing_required_parameter' });
    expect(refusal({})).toMatchObject({
      param: 'input',
      code: 'missing_required_parameter',
    });
  });

  it('accepts what the AI SDK sends for generateObject and a required tool', () => {
    expect(() =>
      parse({
        input: [
          { role: 'system', content: 'You are helpful.' },
          {
            role: 'user',
            content: [
              {
                type: 'input_text',
                text: 'Describe a film.',
                prompt_cache_breakpoint: { mode: 'explicit' },
              },
            ],
          },
        ],
        max_output_tokens: 400,
        text: {
          format: {
            type: 'json_schema',
            strict: true,
            name: 'response',
            schema: { type: 'object', properties: {} },
          },
        },
        tools: [
          {
            type: 'function',
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', properties: {} },
            strict: false,
          },
        ],
        tool_choice: 'none',
      }),
    ).not.toThrow();
  });
});
