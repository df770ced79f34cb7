import { Get, Query } from '@nestjs/common';
import {
  type AuditLog,
  AuditLogRepository,
} from '@marquee/gateway/data-access-db';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiRoute, parseInput } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { AdminController } from '../http/admin-controller';
import { limit, MIN_YEAR } from '../http/fields';
import { iso, list } from '../http/present';

const time = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
  .transform((s) => new Date(s))
  .refine(
    (d) => d.getUTCFullYear() >= MIN_YEAR,
    `must be a date-time from ${MIN_YEAR} on`,
  );

const auditQuery = z.strictObject({
  actor: z.string().min(1).max(200).optional(),
  action: z.string().min(1).max(200).optional(),
  target_type: z.string().min(1).max(200).optional(),
  target_id: z.string().min(1).max(200).optional(),
  since: time.optional(),
  until: time.optional(),
  limit: limit(1000, 100),
});

const presentEntry = (e: AuditLog) => ({
  id: e.id,
  object: 'audit_log_entry' as const,
  actor: e.actor,
  action: e.action,
  target_type: e.targetType,
  target_id: e.targetId,
  details: e.details,
  created_at: iso(e.createdAt),
});

/** The audit log of admin writes (append-only), newest first. */
@AdminController('audit log')
export class AuditLogController {
  constructor(private readonly audit: AuditLogRepository) {}

  @Get('audit-log')
  @RequireAdmin('admin:read')
  @ApiRoute({ summary: 'List audit-log entries', query: auditQuery })
  async list(@Query() query: unknown) {
    const q = parseInput(auditQuery, query);
    const entries = await this.audit.list({
      actor: q.actor,
      action: q.action,
      targetType: q.target_type,
      targetId: q.target_id,
      since: q.since,
      until: q.until,
      limit: q.limit,
    });
    return list(entries.map(presentEntry));
  }
}
