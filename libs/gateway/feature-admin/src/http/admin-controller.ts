import {
  applyDecorators,
  Controller,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '@marquee/gateway/feature-auth';
import { AuditInterceptor } from './audit.interceptor';
import { RepositoryErrorFilter } from './repository-error.filter';

/** An `/admin/v1` controller: admin-token auth, audit log of writes, 409 for refused writes. */
export const AdminController = (tag: string) =>
  applyDecorators(
    Controller('admin/v1'),
    UseGuards(AdminTokenGuard),
    UseInterceptors(AuditInterceptor),
    UseFilters(RepositoryErrorFilter),
    ApiTags(`admin: ${tag}`),
    ApiBearerAuth('admin'),
  );
