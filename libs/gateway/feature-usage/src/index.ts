export * from './feature-usage.module';
export * from './usage-range';
export * from './usage.presenter';
