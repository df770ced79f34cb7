export * from './prisma.service';
export * from './data-access-db.module';
export * from './api-keys/api-key.repository';
export * from './tenants/tenant.repository';
export * from './models/model.repository';
export * from './usage/usage.repository';
export type {
  ApiKey,
  Model,
  Tenant,
  UsageRecord,
} from './generated/prisma/client';
