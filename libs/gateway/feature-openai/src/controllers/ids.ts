/** Response ids derive from the request id, so logs, headers and bodies line up. */
export function responseId(
  prefix: 'cmpl' | 'chatcmpl',
  requestId: string,
): string {
  return `${prefix}-${requestId.replace(/^req_/, '')}`;
}

/** OpenAI's `created`: Unix seconds. */
export function createdAt(): number {
  return Math.floor(Date.now() / 1000);
}
