export * from './feature-admin.module';
export * from './demo-seed';
