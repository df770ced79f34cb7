import OpenAI from 'openai';
import {
  type RunEnd,
  ResponseEventSequence,
  type StreamEvent,
  sseFrame,
} from './response-events';
import {
  type EchoedSettings,
  ResponseEnvelope,
  ResponseIds,
} from './response-object';

const REQUEST_ID = `req_${'ab'.repeat(16)}`;

function sequence(toolCalls = false, request: EchoedSettings = {}) {
  const ids = new ResponseIds(REQUEST_ID);
  const envelope = new ResponseEnvelope(
    ids.response,
    1_700_000_000,
    'tiny',
    request,
  );
  return new ResponseEventSequence(envelope, ids, toolCalls);
}

const finished = (finishReason = 'stop'): RunEnd => ({
  kind: 'finished',
  finishReason,
  promptTokens: 7,
  completionTokens: 5,
});

/** Every event of a run that produced `texts`, then ended with `end`. */
function run(seq: ResponseEventSequence, texts: string[], end = finished()) {
  return [
    ...seq.start(),
    ...texts.flatMap((t) => seq.text(t)),
    ...seq.end(end),
  ];
}

const types = (events: StreamEvent[]) => events.map((e) => e.type);
const last = (events: StreamEvent[]) =>
  events.at(-1)?.response as { output: unknown[] } & Record<string, unknown>;

/** An `openai` client whose every request is answered with `body` (SSE when a string). */
function clientAnswering(body: string | object) {
  return new OpenAI({
    apiKey: 'mq_test',
    baseURL: 'http://marquee.test/v1',
    maxRetries: 0,
    fetch: async () =>
      typeof body === 'string'
        ? new Response(body, {
            headers: { 'content-type': 'text/event-stream' },
          })
        : Response.json(body),
  });
}

describe('ResponseEventSequence', () => {
  it('streams a message as OpenAI does: created, in_progress, item, part, deltas, dones, completed', () => {
    const events = run(sequence(), ['Hel', 'lo']);
    expect(types(events)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(
      events.map((_, i) => i),
    );
    const itemId = `msg_${'ab'.repeat(16)}0000`;
    expect(events[4]).toEqual({
      type: 'response.output_text.delta',
      sequence_number: 4,
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      delta: 'Hel',
      logprobs: [],
    });
    expect(events[6]).toMatchObject({ text: 'Hello', item_id: itemId });
    expect(last(events)).toMatchObject({
      id: `resp_${'ab'.repeat(16)}`,
      object: 'response',
      status: 'completed',
      error: null,
      incomplete_details: null,
      output: [
        {
          type: 'message',
          id: itemId,
          status: 'completed',
          role: 'assistant',
          content: [
            {
              type: 'output_text',
              text: 'Hello',
              annotations: [],
              logprobs: [],
            },
          ],
        },
      ],
      usage: {
        input_tokens: 7,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 12,
      },
    });
    expect(last(events)['completed_at']).toEqual(expect.any(Number));
  });

  it('opens with the response in progress, echoing the settings with OpenAI defaults', () => {
    const [created] = sequence(false, {
      instructions: 'Be brief.',
      max_output_tokens: 9,
      metadata: { scene: '4' },
      store: false,
    }).start();
    expect(created.response).toEqual({
      id: `resp_${'ab'.repeat(16)}`,
      object: 'response',
      created_at: 1_700_000_000,
      status: 'in_progress',
      background: false,
      completed_at: null,
      error: null,
      incomplete_details: null,
      instructions: 'Be brief.',
      max_output_tokens: 9,
      max_tool_calls: null,
      model: 'tiny',
      output: [],
      parallel_tool_calls: true,
      previous_response_id: null,
      prompt_cache_key: null,
      reasoning: { effort: null, summary: null },
      safety_identifier: null,
      service_tier: 'default',
      store: false,
      temperature: 1,
      text: { format: { type: 'text' }, verbosity: 'medium' },
      tool_choice: 'auto',
      tools: [],
      top_logprobs: 0,
      top_p: 1,
      truncation: 'disabled',
      usage: null,
      user: null,
      metadata: { scene: '4' },
    });
  });

  it('ends a run cut at its token limit with response.incomplete and reason max_output_tokens', () => {
    const events = run(sequence(), ['partial'], finished('length'));
    expect(types(events).at(-1)).toBe('response.incomplete');
    expect(last(events)).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      completed_at: null,
      output: [{ type: 'message', status: 'incomplete' }],
    });
  });

  it('answers an empty generation with one empty message', () => {
    const events = run(sequence(), []);
    expect(last(events).output).toEqual([
      expect.objectContaining({
        type: 'message',
        content: [expect.objectContaining({ text: '' })],
      }),
    ]);
  });

  it('turns tool calls into function_call items with argument deltas, dropping the whitespace between them', () => {
    const events = run(sequence(true), [
      '\n<tool_call>\n{"name": "get_weather", "arguments": {"city": ',
      '"Rome"}}\n</tool_call>\n<tool_call>\n{"name": "book", "arguments": {}}\n</tool_call>',
      '\n',
    ]);
    expect(types(events)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const output = last(events).output as {
      id: string;
      call_id: string;
    }[];
    expect(output).toEqual([
      {
        type: 'function_call',
        id: `fc_${'ab'.repeat(16)}0000`,
        call_id: expect.stringMatching(/^call_/),
        name: 'get_weather',
        arguments: '{"city": "Rome"}',
        status: 'completed',
      },
      {
        type: 'function_call',
        id: `fc_${'ab'.repeat(16)}0001`,
        call_id: expect.stringMatching(/^call_/),
        name: 'book',
        arguments: '{}',
        status: 'completed',
      },
    ]);
    expect(output[0].call_id).not.toBe(output[1].call_id);
    expect(events[5]).toMatchObject({
      item_id: output[0].id,
      output_index: 0,
      arguments: '{"city": "Rome"}',
    });
  });

  it('keeps text around calls as messages of their own, in order', () => {
    const events = run(sequence(true), [
      'Checking. <tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>\nDone.',
    ]);
    expect(
      (last(events).output as { type: string }[]).map((o) => o.type),
    ).toEqual(['message', 'function_call', 'message']);
    const output = last(events).output as {
      content?: { text: string }[];
    }[];
    expect(output[0].content?.[0].text).toBe('Checking. ');
    expect(output[2].content?.[0].text).toBe('\nDone.');
  });

  it('ends a run that failed after it started with response.failed, the partial output and what was billed', () => {
    const seq = sequence();
    const events = [
      ...seq.start(),
      ...seq.text('Once upon'),
      ...seq.end({
        kind: 'failed',
        code: 'server_error',
        message: 'The worker running this request stopped; try again.',
        promptTokens: 7,
        completionTokens: 2,
      }),
    ];
    expect(types(events).slice(-2)).toEqual([
      'response.output_item.done',
      'response.failed',
    ]);
    expect(last(events)).toMatchObject({
      status: 'failed',
      error: {
        code: 'server_error',
        message: 'The worker running this request stopped; try again.',
      },
      output: [{ type: 'message', status: 'incomplete' }],
      usage: { input_tokens: 7, output_tokens: 2, total_tokens: 9 },
    });
  });
});

describe('the official openai client reading the sequence', () => {
  it('client.responses.stream: typed events in order, deltas joining into finalResponse().output_text', async () => {
    const events = run(sequence(), ['Once ', 'upon ', 'a time']);
    const stream = clientAnswering(
      events.map(sseFrame).join(''),
    ).responses.stream({ model: 'tiny', input: 'Tell a story' });
    const seen: string[] = [];
    let deltas = '';
    stream.on('response.output_text.delta', (e) => (deltas += e.delta));
    for await (const event of stream) seen.push(event.type);
    const response = await stream.finalResponse();
    expect(seen).toEqual(types(events));
    expect(deltas).toBe('Once upon a time');
    expect(response.output_text).toBe('Once upon a time');
    expect(response.status).toBe('completed');
    expect(response.usage?.total_tokens).toBe(12);
  });

  it('client.responses.stream: function calls and their arguments', async () => {
    const events = run(sequence(true), [
      '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>',
    ]);
    const stream = clientAnswering(
      events.map(sseFrame).join(''),
    ).responses.stream({ model: 'tiny', input: 'Weather?' });
    let args = '';
    stream.on(
      'response.function_call_arguments.delta',
      (e) => (args += e.delta),
    );
    const response = await stream.finalResponse();
    expect(args).toBe('{"city": "Oslo"}');
    expect(response.output).toEqual([
      expect.objectContaining({
        type: 'function_call',
        name: 'get_weather',
        arguments: '{"city": "Oslo"}',
      }),
    ]);
  });

  it('client.responses.stream resolves an incomplete response', async () => {
    const events = run(sequence(), ['cut'], finished('length'));
    const response = await clientAnswering(events.map(sseFrame).join(''))
      .responses.stream({ model: 'tiny', input: 'x' })
      .finalResponse();
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details?.reason).toBe('max_output_tokens');
  });

  it('client.responses.create: the whole response, with output_text', async () => {
    const events = run(sequence(), ['Hello']);
    const response = await clientAnswering(last(events)).responses.create({
      model: 'tiny',
      input: 'hi',
    });
    expect(response.output_text).toBe('Hello');
    expect(response.id).toBe(`resp_${'ab'.repeat(16)}`);
  });
});
