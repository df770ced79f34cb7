import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuthzChangeInterceptor } from './authz-change.interceptor';
import { PrincipalCache } from './principal-cache.service';
import { AdminTokenGuard } from './admin-token.guard';
import { ApiKeyGuard } from './api-key.guard';
import { CredentialCheck } from './credential-check.service';

/** Guards for tenant keys and admin tokens. Needs DataAccessDbModule and GatewayConfig (global). */
@Module({
  providers: [
    ApiKeyGuard,
    AdminTokenGuard,
    PrincipalCache,
    CredentialCheck,
    { provide: APP_INTERCEPTOR, useClass: AuthzChangeInterceptor },
  ],
  exports: [ApiKeyGuard, AdminTokenGuard, PrincipalCache, CredentialCheck],
})
export class AuthModule {}
