import { SetMetadata } from '@nestjs/common';

export const AUDIT_METADATA = 'marquee:audit';

/** How an admin write is recorded in the audit log. */
export interface AuditSpec {
  /** `tenant.create`, `api_key.rotate`, ... */
  action: string;
  targetType: string;
}

/** Names the audit-log action of an admin write (see AuditInterceptor). */
export const Audited = (action: string, targetType: string) =>
  SetMetadata(AUDIT_METADATA, { action, targetType } satisfies AuditSpec);
