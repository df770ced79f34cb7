export * from './admission.service';
export * from './budget-source';
export * from './feature-quotas.module';
export * from './rate-limit-headers';
export * from './rate-limit-headers.interceptor';
