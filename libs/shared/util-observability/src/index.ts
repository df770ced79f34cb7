export * from './drain-state';
export * from './gateway-metrics';
export * from './gpu-memory';
export * from './logger-params';
export * from './metrics-registry';
export * from './secret-scrubber';
export * from './worker-metrics';
export * from './ops-http-listener';
