import type { InvoiceWithLines } from '@marquee/gateway/data-access-db';

/** RFC 4180 field; text a spreadsheet would run as a formula gets a leading quote. */
function field(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** An invoice as CSV (CRLF lines): a header, one line per model, and a total line. */
export function invoiceCsv(invoice: InvoiceWithLines): string {
  const rows = [
    [
      'month',
      'model',
      'requests',
      'prompt_tokens',
      'completion_tokens',
      'amount_micros',
    ],
    ...invoice.lines.map((l) => [
      invoice.month,
      l.modelName,
      String(l.requests),
      l.promptTokens.toString(),
      l.completionTokens.toString(),
      l.amountMicros.toString(),
    ]),
    [
      invoice.month,
      'TOTAL',
      String(invoice.lines.reduce((n, l) => n + l.requests, 0)),
      invoice.lines.reduce((n, l) => n + l.promptTokens, 0n).toString(),
      invoice.lines.reduce((n, l) => n + l.completionTokens, 0n).toString(),
      invoice.totalMicros.toString(),
    ],
  ];
  return rows.map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}
