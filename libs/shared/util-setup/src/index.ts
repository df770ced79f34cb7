export * from './processes';
export * from './services';
export * from './test-database';
