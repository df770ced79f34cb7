import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Method } from './route-table';

export interface Reply {
  status: number;
  // Test code reads arbitrary JSON; assertions check its shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
  headers: Record<string, unknown>;
}

/** Every response a test saw, kept to prove no secret leaks into any of them. */
export interface Transcript {
  label: string;
  text: string;
}

/** `app.inject` with a bearer token and a transcript of every response. */
export class HttpClient {
  readonly transcript: Transcript[] = [];

  constructor(private readonly app: NestFastifyApplication) {}

  async call(
    method: Method,
    url: string,
    opts: { token?: string; body?: unknown; raw?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.raw !== undefined) headers['content-type'] = 'application/json';
    const res = await this.app.inject({
      method,
      url,
      headers,
      payload:
        opts.raw ??
        (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
      ...(opts.raw === undefined && opts.body !== undefined
        ? { headers: { ...headers, 'content-type': 'application/json' } }
        : {}),
    });
    this.transcript.push({
      label: `${method} ${url}`,
      text: `${JSON.stringify(res.headers)}\n${res.body}`,
    });
    let body: unknown = null;
    try {
      body = JSON.parse(res.body);
    } catch {
      body = null;
    }
    return {
      status: res.statusCode,
      body,
      text: res.body,
      headers: res.headers,
    };
  }
}
