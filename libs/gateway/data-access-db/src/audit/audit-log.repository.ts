import { Injectable } from '@nestjs/common';
import type { AuditLog } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

/** JSON stored in an audit row's `details`. */
export type AuditJson =
  | string
  | number
  | boolean
  | null
  | AuditJson[]
  | { [key: string]: AuditJson };

/** One admin action. `details` must never hold a secret. */
export interface AuditEntry {
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  details: { [key: string]: AuditJson };
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
  limit: number;
}

/** The append-only audit log (a trigger refuses UPDATE and DELETE). */
@Injectable()
export class AuditLogRepository {
  constructor(private readonly prisma: PrismaService) {}

  append(entry: AuditEntry): Promise<AuditLog> {
    return this.prisma.auditLog.create({ data: entry });
  }

  /** Newest first. */
  list(filter: AuditFilter): Promise<AuditLog[]> {
    const { since, until, limit, ...exact } = filter;
    return this.prisma.auditLog.findMany({
      where: {
        ...exact,
        createdAt: { gte: since, lt: until },
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }
}
