export * from './worker-config';
