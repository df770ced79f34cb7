export * from './feature-admin.module';
