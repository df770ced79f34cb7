import type { InvoiceWithLines } from '@marquee/gateway/data-access-db';
import { invoiceCsv } from './invoice-csv';

const invoice = (modelNames: string[]): InvoiceWithLines => ({
  id: 'inv',
  tenantId: 't',
  month: '2026-10',
  totalMicros: BigInt(modelNames.length) * 10n,
  createdAt: new Date(0),
  lines: modelNames.map((modelName, i) => ({
    id: `l${i}`,
    invoiceId: 'inv',
    modelName,
    requests: 1,
    promptTokens: 2n,
    completionTokens: 3n,
    amountMicros: 10n,
  })),
});

describe('invoiceCsv', () => {
  it('writes a header, a line per model and a total line, CRLF-terminated', () => {
    expect(invoiceCsv(invoice(['a', 'b']))).toBe(
      'month,model,requests,prompt_tokens,completion_tokens,amount_micros\r\n' +
        '2026-10,a,1,2,3,10\r\n' +
        '2026-10,b,1,2,3,10\r\n' +
        '2026-10,TOTAL,2,4,6,20\r\n',
    );
  });

  it('quotes fields with commas or quotes, and defuses spreadsheet formulas', () => {
    const csv = invoiceCsv(invoice(['a,"b"', '=HYPERLINK("x")']));
    expect(csv).toContain('2026-10,"a,""b""",1');
    expect(csv).toContain(`2026-10,"'=HYPERLINK(""x"")",1`);
  });
});
