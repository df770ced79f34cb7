import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ResponseCapture } from './response-capture';

/** Serves one response with `handler`, reads it as a client, and returns the capture. */
async function captureOf(
  handler: (res: ServerResponse) => void,
  maxBytes = 1024,
): Promise<{ capture: ResponseCapture; received: string }> {
  let capture!: ResponseCapture;
  const server: Server = createServer((_req, res) => {
    capture = new ResponseCapture(res, maxBytes);
    res.setHeader('x-request-id', 'req_7');
    handler(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
    });
    return { capture, received: await response.text() };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('ResponseCapture', () => {
  it('keeps an SSE stream byte for byte, with its status and headers', async () => {
    const { capture, received } = await captureOf((res) => {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
      });
      res.write('data: {"é":1}\n\n');
      res.write(Buffer.from('data: [DONE]\n\n'));
      res.end();
    });

    const stored = capture.response();
    expect(stored.body.toString()).toBe(received);
    expect(stored.status).toBe(200);
    expect(stored.headers).toEqual({
      'content-type': 'text/event-stream; charset=utf-8',
      'x-request-id': 'req_7',
    });
    expect(capture.ended).toBe(true);
  });

  it('keeps a body passed to end() and headers given as a flat array', async () => {
    const { capture } = await captureOf((res) => {
      res.writeHead(422, ['Content-Type', 'application/json']);
      res.end('{"ok":false}', 'utf8');
    });

    expect(capture.response()).toMatchObject({
      status: 422,
      headers: { 'content-type': 'application/json' },
    });
    expect(capture.response().body.toString()).toBe('{"ok":false}');
  });

  it('uses the implicit head when the handler writes without writeHead', async () => {
    const { capture } = await captureOf((res) => {
      res.statusCode = 201;
      res.setHeader('content-type', 'text/plain');
      res.end('made');
    });

    expect(capture.response()).toMatchObject({
      status: 201,
      headers: { 'content-type': 'text/plain' },
    });
  });

  it('stops keeping a body past its limit and says so, without touching the response', async () => {
    const { capture, received } = await captureOf((res) => {
      res.write('x'.repeat(600));
      res.end('y'.repeat(600));
    }, 1000);

    expect(received).toHaveLength(1200);
    expect(capture.overflowed).toBe(true);
  });
});
