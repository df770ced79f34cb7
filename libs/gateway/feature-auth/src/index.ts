export * from './api-key-secret';
export * from './api-key.guard';
export * from './admin-token.guard';
export * from './auth.module';
