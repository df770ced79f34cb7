/**
 * A mock OpenAI server that answers at once: `POST /v1/chat/completions` and
 * `POST /v1/completions` as JSON, or as SSE with one chunk per token (`max_tokens`, default 16,
 * all written back to back), and `GET /v1/models`. It is the upstream Portkey proxies to, and,
 * called directly, the floor of every figure. Run as its own process (`startMockOpenAi` in
 * `processes.ts` forks this file) so it never shares an event loop with the load generator.
 */
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

interface Body {
  model?: string;
  max_tokens?: number;
  stream?: boolean;
}

const created = Math.floor(Date.now() / 1000);

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function answer(res: ServerResponse, chat: boolean, body: Body): void {
  const model = body.model ?? 'mock';
  const tokens = Math.max(1, Math.min(4096, body.max_tokens ?? 16));
  const id = `${chat ? 'chatcmpl' : 'cmpl'}-mock`;
  const object = chat ? 'chat.completion' : 'text_completion';
  const usage = {
    prompt_tokens: 15,
    completion_tokens: tokens,
    total_tokens: 15 + tokens,
  };
  if (!body.stream) {
    const text = ' tok'.repeat(tokens);
    const choice = chat
      ? {
          index: 0,
          message: { role: 'assistant', content: text },
          finish_reason: 'length',
        }
      : { index: 0, text, finish_reason: 'length', logprobs: null };
    send(res, 200, { id, object, created, model, choices: [choice], usage });
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const chunkObject = chat ? 'chat.completion.chunk' : 'text_completion';
  for (let i = 0; i < tokens; i++) {
    const last = i === tokens - 1;
    const choice = chat
      ? {
          index: 0,
          delta:
            i === 0
              ? { role: 'assistant', content: ' tok' }
              : { content: ' tok' },
          finish_reason: last ? 'length' : null,
        }
      : { index: 0, text: ' tok', finish_reason: last ? 'length' : null };
    res.write(
      `data: ${JSON.stringify({ id, object: chunkObject, created, model, choices: [choice] })}\n\n`,
    );
  }
  res.end('data: [DONE]\n\n');
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  if (req.method === 'GET' && path === '/v1/models') {
    send(res, 200, {
      object: 'list',
      data: [{ id: 'mock', object: 'model', created, owned_by: 'mock' }],
    });
    return;
  }
  const chat = path === '/v1/chat/completions';
  if (req.method !== 'POST' || (!chat && path !== '/v1/completions')) {
    send(res, 404, { error: { message: `no route ${req.method} ${path}` } });
    return;
  }
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    let body: Body;
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Body;
    } catch {
      send(res, 400, { error: { message: 'body is not JSON' } });
      return;
    }
    answer(res, chat, body);
  });
}

/** Listens on 127.0.0.1:`port` (0: any free port) and resolves with the port. */
export function listenMockOpenAi(port: number): Promise<number> {
  const server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve((server.address() as AddressInfo).port),
    );
  });
}

if (require.main === module) {
  listenMockOpenAi(Number(process.argv[2] ?? 0)).then(
    (port) => process.send?.({ port }),
    (error: unknown) => {
      console.error(`mock-openai: cannot listen: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
