export * from './request-events';
export * from './request-registry';
export * from './worker-link.controller';
export * from './transport-grpc.module';
export * from './grpc-server-options';
