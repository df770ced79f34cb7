export * from './model-files';
export * from './model-manifest';
