export * from './inference.processor';
export * from './feature-jobs.module';
export * from './embedding.processor';
export * from './run-embedding-job';
