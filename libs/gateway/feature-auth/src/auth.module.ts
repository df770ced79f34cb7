import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuthzChangeInterceptor } from './authz-change.interceptor';
import { PrincipalCache } from './principal-cache.service';
import { AdminTokenGuard } from './admin-token.guard';
import { ApiKeyGuard } from './api-key.guard';

/** Guards for tenant keys and admin tokens. Needs DataAccessDbModule and GatewayConfig (global). */
@Module({
  providers: [
    ApiKeyGuard,
    AdminTokenGuard,
    PrincipalCache,
    { provide: APP_INTERCEPTOR, useClass: AuthzChangeInterceptor },
  ],
  exports: [ApiKeyGuard, AdminTokenGuard, PrincipalCache],
})
export class AuthModule {}
