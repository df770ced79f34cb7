import { connect } from 'node:net';

/** A response read off a socket, for requests no HTTP client would send. */
export interface RawReply {
  status: number;
  headers: Record<string, string>;
  // Test code reads arbitrary JSON; assertions check its shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

/**
 * Writes `request` (a whole HTTP/1.1 request, malformed if the test wants) to `port` and reads
 * the one response until the server closes the connection (or `timeoutMs`).
 */
export function rawRequest(
  port: number,
  request: string | Buffer,
  timeoutMs = 5_000,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    // The server may close while the request is still being written.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const split = raw.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no HTTP response: ${raw}`));
      const [statusLine, ...lines] = raw.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line
          .slice(colon + 1)
          .trim();
      }
      const text = raw.slice(split + 4);
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body,
        text,
      });
    });
    socket.write(request);
  });
}

/** True when `body` is exactly OpenAI's error shape: `{"error":{"message","type","param","code"}}`. */
export function isOpenAiError(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'error') return false;
  const error = (body as { error: Record<string, unknown> }).error;
  if (!error || typeof error !== 'object') return false;
  const fields = Object.keys(error).sort().join(',');
  return (
    fields === 'code,message,param,type' &&
    typeof error.message === 'string' &&
    error.message.length > 0 &&
    typeof error.type === 'string' &&
    (error.param === null || typeof error.param === 'string') &&
    (error.code === null || typeof error.code === 'string')
  );
}
