import type { UsageRow, UsageSums } from '@marquee/gateway/data-access-db';

const sums = (s: UsageSums) => ({
  requests: s.requests,
  prompt_tokens: s.promptTokens.toString(),
  completion_tokens: s.completionTokens.toString(),
  cost_micros: s.costMicros.toString(),
});

/**
 * A usage report on the wire. Token and money sums are decimal strings (BigInt in the ledger);
 * `requests` is a number.
 */
export function presentUsage(
  range: { start: string; end: string },
  report: { totals: UsageSums; rows: UsageRow[] },
) {
  return {
    object: 'usage_report' as const,
    start: range.start,
    end: range.end,
    totals: sums(report.totals),
    data: report.rows.map((r) => ({
      ...(r.day !== undefined && { day: r.day }),
      ...(r.model !== undefined && { model: r.model }),
      ...(r.apiKeyId !== undefined && { api_key_id: r.apiKeyId }),
      ...(r.tenantId !== undefined && { tenant_id: r.tenantId }),
      ...sums(r),
    })),
  };
}
