export * from './deficit-round-robin';
export * from './fair-job-source';
export * from './fair-consumers';
export * from './worker-redis';
