import {
  isReplayable,
  isRetryableStatus,
  replayableHeaders,
  type StoredResponse,
} from './stored-response';

const sse = (body: string): StoredResponse => ({
  status: 200,
  headers: { 'content-type': 'text/event-stream; charset=utf-8' },
  body: Buffer.from(body),
});

describe('replayableHeaders', () => {
  it('keeps what a client reads and drops transport headers', () => {
    expect(
      replayableHeaders({
        'Content-Type': 'application/json',
        'x-request-id': 'req_1',
        'x-ratelimit-remaining-requests': 9,
        'openai-model': 'm',
        'content-length': '12',
        connection: 'keep-alive',
        'set-cookie': ['a', 'b'],
        date: 'now',
      }),
    ).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'req_1',
      'x-ratelimit-remaining-requests': '9',
      'openai-model': 'm',
    });
  });
});

describe('isReplayable', () => {
  it('stores 2xx and client errors a retry would repeat (400, 404, 422)', () => {
    for (const status of [200, 201, 400, 404, 422])
      expect(isReplayable({ status, headers: {}, body: Buffer.alloc(0) })).toBe(
        true,
      );
  });

  it('never stores what the client should retry: 429, 409, 408, 5xx, nor 401/403', () => {
    for (const status of [401, 403, 408, 409, 425, 429, 500, 502, 503, 504])
      expect(isRetryableStatus(status)).toBe(true);
  });

  it('stores a stream that reached [DONE] and not one that ended on an error event', () => {
    expect(isReplayable(sse('data: {"a":1}\n\ndata: [DONE]\n\n'))).toBe(true);
    expect(
      isReplayable(
        sse('data: {"a":1}\n\ndata: {"error":{"code":"worker_lost"}}\n\n'),
      ),
    ).toBe(false);
    expect(isReplayable(sse(''))).toBe(false);
    expect(isReplayable(sse('data: [DONE]\n\n'))).toBe(true);
  });

  it('stores a Responses API stream that reached response.completed or response.incomplete, not one that failed', () => {
    const events = (last: string) =>
      sse(
        `event: response.created\ndata: {"type":"response.created"}\n\nevent: ${last}\ndata: {"type":"${last}","sequence_number":9}\n\n`,
      );
    expect(isReplayable(events('response.completed'))).toBe(true);
    expect(isReplayable(events('response.incomplete'))).toBe(true);
    expect(isReplayable(events('response.failed'))).toBe(false);
    expect(isReplayable(events('response.output_text.delta'))).toBe(false);
    // Text that looks like an SSE field inside the final event's JSON changes nothing.
    expect(
      isReplayable(
        sse(
          'event: response.completed\ndata: {"type":"response.completed","text":"data: x"}\n\n',
        ),
      ),
    ).toBe(true);
  });
});
