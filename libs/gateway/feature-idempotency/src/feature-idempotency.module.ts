import { Module } from '@nestjs/common';
import {
  DEFAULT_IDEMPOTENCY_OPTIONS,
  IDEMPOTENCY_OPTIONS,
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
export class FeatureIdempotencyModule {}
