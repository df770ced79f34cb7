export * from './processes';
export * from './services';
export * from './test-database';
export * from './database-on-server';
export * from './free-port';
export * from './supervisor';
