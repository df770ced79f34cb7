export * from './feature-ops.module';
export * from './ops-http.server';
export * from './worker-health.service';
