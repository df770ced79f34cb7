/** Calls `/admin/v1` with the signed-in admin token. The token travels only in a header. */

/** An error the admin API answered with (OpenAI's error shape), or a network failure. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  /** The token lacks the route's scope (403 insufficient_scope). */
  get missingScope(): boolean {
    return this.status === 403 && this.code === 'insufficient_scope';
  }
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface AdminClient {
  request<T>(method: Method, path: string, body?: unknown): Promise<T>;
  /** A file the API serves (an invoice's CSV), as a Blob. */
  download(path: string): Promise<Blob>;
}

const BASE = '/admin/v1';

async function failure(response: Response): Promise<AdminApiError> {
  let message = `${response.status} ${response.statusText}`;
  let code: string | null = null;
  try {
    const body = (await response.json()) as {
      error?: { message?: string; code?: string | null };
    };
    if (body.error?.message) message = body.error.message;
    code = body.error?.code ?? null;
  } catch {
    // Not JSON (a proxy's error page): the status line says enough.
  }
  return new AdminApiError(response.status, message, code);
}

async function send(
  token: string,
  method: Method,
  path: string,
  body?: unknown,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${BASE}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new AdminApiError(
      0,
      `The gateway could not be reached (${(error as Error).message}).`,
    );
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export function adminClient(token: string): AdminClient {
  return {
    async request<T>(method: Method, path: string, body?: unknown) {
      const response = await send(token, method, path, body);
      return (await response.json()) as T;
    },
    async download(path: string) {
      return (await send(token, 'GET', path)).blob();
    },
  };
}
