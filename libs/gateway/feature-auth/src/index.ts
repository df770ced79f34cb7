export * from './api-key-secret';
export * from './api-key.guard';
export * from './admin-token.guard';
export * from './admin-access';
export * from './admin-token-secret';
export * from './auth.module';
export * from './principal-cache.service';
export * from './credential-check.service';
