import type { AuditJson } from '@marquee/gateway/data-access-db';

const SECRET_FIELDS = /^(key|secret|token|hash|password|authorization)$/i;
const SECRET_VALUE = /^mqa?_/;

/** A JSON copy of `value` fit for the audit log: secret-named fields and key-shaped strings removed. */
export function redactSecrets(value: unknown): { [key: string]: AuditJson } {
  const walk = (v: unknown): AuditJson => {
    if (typeof v === 'string') return SECRET_VALUE.test(v) ? '[redacted]' : v;
    if (typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return v.toString();
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v).map(([k, inner]) => [
          k,
          SECRET_FIELDS.test(k) ? '[redacted]' : walk(inner),
        ]),
      );
    }
    return null;
  };
  return walk(value) as { [key: string]: AuditJson };
}
