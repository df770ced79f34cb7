import type { RequestEvent } from '@marquee/gateway/transport-grpc';
import type { ApiError } from '@marquee/gateway/util-http';
import Fastify from 'fastify';
import type { RunningRequest } from '../inference/inference-runner.service';
import { StageClock } from '../inference/stage-clock';
import { ResponseEventSequence } from './response-events';
import {
  ResponseEnvelope,
  ResponseIds,
  type ResponseObject,
} from './response-object';
import { ResponsesWriter } from './responses-writer.service';

const REQUEST_ID = `req_${'cd'.repeat(16)}`;

const started: RequestEvent = {
  type: 'started',
  workerId: 'w1',
  promptTokens: 6,
  pickupMs: 1,
};
const tokens = (text: string): RequestEvent => ({
  type: 'tokens',
  choiceIndex: 0,
  text,
  tokens: 1,
});
const finished: RequestEvent = {
  type: 'finished',
  promptTokens: 6,
  completionTokens: 2,
  choices: [{ index: 0, finishReason: 'stop', completionTokens: 2 }],
};
// As the gateway reports a worker it lost: no counts of its own.
const lost: RequestEvent = {
  type: 'failed',
  code: 'worker_lost',
  message: 'lost',
  param: null,
  promptTokens: 0,
  completionTokens: 0,
};

function runOf(events: RequestEvent[]): RunningRequest {
  return {
    model: { name: 'tiny' } as RunningRequest['model'],
    headers: { 'x-ratelimit-limit-requests': '60' },
    clock: new StageClock(undefined, performance.now()),
    cancel: () => undefined,
    events: async function* () {
      yield* events;
    },
  };
}

/** Serves one request with the writer, as the controller would; returns what the client got. */
async function served(
  events: RequestEvent[],
  stream: boolean,
  keep?: (response: ResponseObject) => Promise<void>,
) {
  const app = Fastify();
  app.setErrorHandler((error, _request, reply) => {
    const api = error as unknown as ApiError;
    void reply.status(api.status ?? 500).send(api.toBody?.() ?? {});
  });
  app.post('/v1/responses', async (_request, reply) => {
    const ids = new ResponseIds(REQUEST_ID);
    const envelope = new ResponseEnvelope(ids.response, 1, 'tiny', {});
    await new ResponsesWriter().send(
      runOf(events),
      new ResponseEventSequence(envelope, ids, false),
      { stream, requestId: REQUEST_ID, keep },
      reply,
    );
  });
  try {
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    const reply = await fetch(`${origin}/v1/responses`, { method: 'POST' });
    return {
      status: reply.status,
      headers: reply.headers,
      body: await reply.text(),
    };
  } finally {
    await app.close();
  }
}

/** The `event:` names and data of an SSE body. */
const frames = (body: string) =>
  body
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const [event, data] = frame.split('\n');
      return {
        event: event.replace(/^event: /, ''),
        data: JSON.parse(data.replace(/^data: /, '')) as Record<
          string,
          unknown
        >,
      };
    });

describe('ResponsesWriter', () => {
  it('answers one response object, stored before it is sent', async () => {
    const order: string[] = [];
    const reply = await served(
      [started, tokens('Hi'), tokens(' there'), finished],
      false,
      async (response) => {
        order.push(`kept ${response.status}`);
      },
    );
    order.push('sent');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-ratelimit-limit-requests')).toBe('60');
    const body = JSON.parse(reply.body) as ResponseObject;
    expect(body).toMatchObject({
      id: `resp_${'cd'.repeat(16)}`,
      status: 'completed',
      output: [{ content: [{ text: 'Hi there' }] }],
      usage: { input_tokens: 6, output_tokens: 2, total_tokens: 8 },
    });
    expect(order).toEqual(['kept completed', 'sent']);
  });

  it('streams named SSE events whose data carries the same type, ending with response.completed', async () => {
    const kept: ResponseObject[] = [];
    const reply = await served(
      [started, tokens('Hi'), tokens(' there'), finished],
      true,
      async (response) => {
        kept.push(response);
      },
    );
    expect(reply.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = frames(reply.body);
    for (const { event, data } of events) expect(data['type']).toBe(event);
    expect(events.map((e) => e.event)).toEqual([
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
    expect(kept).toEqual([events.at(-1)?.data['response']]);
  });

  it('answers a failure before the worker started with the HTTP error, storing nothing', async () => {
    const keep = jest.fn();
    const reply = await served(
      [
        {
          type: 'failed',
          code: 'context_length_exceeded',
          message: 'too long',
          param: 'messages',
          promptTokens: 0,
          completionTokens: 0,
        },
      ],
      true,
      keep,
    );
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toMatchObject({
      error: { code: 'context_length_exceeded', param: 'input' },
    });
    expect(keep).not.toHaveBeenCalled();
  });

  it('ends a stream that fails midway with response.failed, the tokens relayed as its usage, storing nothing', async () => {
    const keep = jest.fn();
    const reply = await served([started, tokens('Hi'), lost], true, keep);
    const last = frames(reply.body).at(-1);
    expect(last?.event).toBe('response.failed');
    expect(last?.data['response']).toMatchObject({
      status: 'failed',
      error: { code: 'server_error' },
      usage: { input_tokens: 6, output_tokens: 1 },
    });
    expect(keep).not.toHaveBeenCalled();
  });

  it('still answers when storing fails', async () => {
    const reply = await served([started, tokens('Hi'), finished], false, () =>
      Promise.reject(new Error('database down')),
    );
    expect(reply.status).toBe(200);
    expect((JSON.parse(reply.body) as ResponseObject).status).toBe('completed');
  });
});
