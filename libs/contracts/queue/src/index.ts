export * from './inference-job';
export * from './queue-names';
export * from './worker-presence';
export * from './embedding-job';
export * from './fair-queues';
export * from './model-control';
export * from './usage-ledger';
export * from './lua-command';
