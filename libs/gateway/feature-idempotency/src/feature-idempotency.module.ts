import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule, CredentialCheck } from '@marquee/gateway/feature-auth';
import {
  DEFAULT_IDEMPOTENCY_OPTIONS,
  IDEMPOTENCY_OPTIONS,
  REPLAY_CREDENTIAL_CHECK,
} from './idempotency-options';
import { IdempotencyHooks } from './idempotency.hooks';
import { IdempotencyStore } from './idempotency-store.service';

/**
 * `Idempotency-Key` on every POST of the HTTP server it is part of (see {@link IdempotencyHooks}).
 * Needs the gateway's Redis (`DataAccessQueueModule`, global); records `GatewayMetrics` when
 * present.
 */
@Module({
  providers: [
    { provide: IDEMPOTENCY_OPTIONS, useValue: DEFAULT_IDEMPOTENCY_OPTIONS },
    IdempotencyStore,
    IdempotencyHooks,
  ],
})
export class FeatureIdempotencyModule {
  /** As in the gateway: a stored response is replayed only to a credential still accepted. */
  static withAuth(): DynamicModule {
    return {
      module: FeatureIdempotencyModule,
      imports: [AuthModule],
      providers: [
        { provide: REPLAY_CREDENTIAL_CHECK, useExisting: CredentialCheck },
      ],
    };
  }
}
