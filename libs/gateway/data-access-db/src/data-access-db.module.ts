import { type DynamicModule, Module } from '@nestjs/common';
import { ApiKeyRepository } from './api-keys/api-key.repository';
import { ModelRepository } from './models/model.repository';
import { DATABASE_URL, PrismaService } from './prisma.service';
import { TenantRepository } from './tenants/tenant.repository';
import { UsageRepository } from './usage/usage.repository';

const repositories = [
  PrismaService,
  ApiKeyRepository,
  TenantRepository,
  ModelRepository,
  UsageRepository,
];

/** PostgreSQL access for the gateway: the Prisma client and one repository per aggregate. */
@Module({})
export class DataAccessDbModule {
  static forRoot(databaseUrl: string): DynamicModule {
    return {
      module: DataAccessDbModule,
      global: true,
      providers: [
        { provide: DATABASE_URL, useValue: databaseUrl },
        ...repositories,
      ],
      exports: repositories,
    };
  }
}
