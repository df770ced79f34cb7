export * from './deficit-round-robin';
export * from './fair-job-source';
