import { Module } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard';
import { ApiKeyGuard } from './api-key.guard';

/** Guards for tenant keys and admin tokens. Needs DataAccessDbModule and GatewayConfig (global). */
@Module({
  providers: [ApiKeyGuard, AdminTokenGuard],
  exports: [ApiKeyGuard, AdminTokenGuard],
})
export class AuthModule {}
