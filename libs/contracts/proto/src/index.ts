export * from './worker-link';
