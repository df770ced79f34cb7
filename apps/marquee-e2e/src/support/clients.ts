import OpenAI from 'openai';
import { Client } from 'pg';
import { e2eStack } from './stack';

/** An `openai` client for the e2e gateway; no retries, so every status reaches the test. */
export function openai(apiKey = e2eStack().apiKey): OpenAI {
  return new OpenAI({
    baseURL: `${e2eStack().origin}/v1`,
    apiKey,
    maxRetries: 0,
  });
}

/** Calls the admin API with the admin token (or `token`). */
export async function admin(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: object,
  token = e2eStack().adminToken,
): Promise<Response> {
  return fetch(`${e2eStack().origin}/admin/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
}

/** One row of the usage ledger, as stored. */
export interface UsageRow {
  request_id: string;
  endpoint: string;
  prompt_tokens: number;
  completion_tokens: number;
  finish_reason: string;
}

/** The usage ledger rows of a request id, read straight from PostgreSQL. */
export async function usageRows(requestId: string): Promise<UsageRow[]> {
  const client = new Client({ connectionString: e2eStack().databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<UsageRow>(
      'SELECT request_id, endpoint, prompt_tokens, completion_tokens, finish_reason FROM usage_records WHERE request_id = $1',
      [requestId],
    );
    return rows;
  } finally {
    await client.end();
  }
}

/** Polls the ledger until the request's row appears (it is written as the request ends). */
export async function waitForUsageRow(
  requestId: string,
  timeoutMs = 5000,
): Promise<UsageRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await usageRows(requestId);
    if (row) return row;
    if (Date.now() > deadline)
      throw new Error(`no usage row for ${requestId} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
