export * from './api-docs';
