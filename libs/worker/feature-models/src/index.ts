export * from './model-host.service';
export * from './model-loader.service';
export * from './model-consumers';
export * from './worker-presence.reporter';
export * from './artifact-path';
