import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { replayableHeaders, type StoredResponse } from './stored-response';

type Chunk = string | Uint8Array;

const toBuffer = (chunk: Chunk, encoding?: unknown): Buffer =>
  typeof chunk === 'string'
    ? Buffer.from(
        chunk,
        typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
      )
    : Buffer.from(chunk); // a copy: the writer may reuse its buffer

/**
 * Records what a handler writes to a Node response, byte for byte, whether it went through
 * Fastify's `reply.send` or straight to `reply.raw` (SSE): the status and headers at
 * `writeHead` (or the implicit head of the first write) and every body chunk. Past `maxBytes` it
 * stops keeping the body and says so ({@link overflowed}); the response itself is untouched.
 */
export class ResponseCapture {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private headHeaders: Record<string, unknown> = {};
  private status: number | null = null;
  /** The body outgrew `maxBytes`; what was kept is incomplete. */
  overflowed = false;

  constructor(
    private readonly raw: ServerResponse,
    private readonly maxBytes: number,
  ) {
    const writeHead = raw.writeHead.bind(raw) as (
      ...args: unknown[]
    ) => ServerResponse;
    const write = raw.write.bind(raw) as (...args: unknown[]) => boolean;
    const end = raw.end.bind(raw) as (...args: unknown[]) => ServerResponse;
    raw.writeHead = ((...args: unknown[]) => {
      this.head(args);
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
    raw.write = ((...args: unknown[]) => {
      if (!raw.writableEnded && !raw.destroyed) this.keep(args[0], args[1]);
      return write(...args);
    }) as ServerResponse['write'];
    raw.end = ((...args: unknown[]) => {
      if (!raw.writableEnded && !raw.destroyed && typeof args[0] !== 'function')
        this.keep(args[0], args[1]);
      return end(...args);
    }) as ServerResponse['end'];
  }

  /** Whether the handler ended the response (it may still be on its way to the client). */
  get ended(): boolean {
    return this.raw.writableEnded;
  }

  /** What was sent so far, as it would be stored. */
  response(): StoredResponse {
    return {
      status: this.status ?? this.raw.statusCode,
      headers: replayableHeaders({
        ...(this.raw.getHeaders() as Record<string, unknown>),
        ...this.headHeaders,
      }),
      body: Buffer.concat(this.chunks, this.bytes),
    };
  }

  private head(args: unknown[]): void {
    if (this.status !== null) return;
    this.status = typeof args[0] === 'number' ? args[0] : this.raw.statusCode;
    const headers = typeof args[1] === 'string' ? args[2] : args[1];
    this.headHeaders = flatHeaders(headers);
  }

  private keep(chunk: unknown, encoding: unknown): void {
    if (chunk === undefined || chunk === null || this.overflowed) return;
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) return;
    const buffer = toBuffer(chunk, encoding);
    if (this.bytes + buffer.length > this.maxBytes) {
      this.overflowed = true;
      this.chunks.length = 0;
      this.bytes = 0;
      return;
    }
    this.chunks.push(buffer);
    this.bytes += buffer.length;
  }
}

/** `writeHead` takes headers as an object or as a flat [name, value, ...] array. */
function flatHeaders(headers: unknown): Record<string, unknown> {
  if (!headers) return {};
  if (Array.isArray(headers)) {
    const out: Record<string, unknown> = {};
    for (let i = 0; i + 1 < headers.length; i += 2)
      out[String(headers[i]).toLowerCase()] = headers[i + 1];
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders))
    out[name.toLowerCase()] = value;
  return out;
}
