export * from './feature-health.module';
export * from './graceful-shutdown.service';
export * from './http-drain';
export * from './metrics-server';
