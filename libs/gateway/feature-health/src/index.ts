export * from './feature-health.module';
