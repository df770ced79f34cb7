export * from './feature-idempotency.module';
export * from './idempotency-key';
export * from './idempotency-options';
export * from './idempotency-store.service';
export * from './idempotency.hooks';
export * from './stored-response';
export * from './response-seal';
