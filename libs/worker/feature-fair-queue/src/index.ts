export * from './deficit-round-robin';
export * from './fair-job-source';
export type { FairJob } from './job-lease';
export * from './job-lock-lost.exception';
export type { QueueProblem } from './queue-problem';
export * from './fair-consumers';
export * from './worker-redis';
