export * from './model-host.service';
export * from './inference.processor';
export * from './worker-presence.reporter';
export * from './feature-jobs.module';
