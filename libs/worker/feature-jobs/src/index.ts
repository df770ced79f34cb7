export * from './model-host.service';
export * from './inference.processor';
export * from './worker-presence.reporter';
export * from './feature-jobs.module';
export * from './embedding.processor';
export * from './run-embedding-job';
export * from './model-loader.service';
export * from './artifact-path';
