export * from './feature-openai.module';
export { JobDispatch } from './inference/job-dispatch.service';
export { RequestAccounting } from './inference/request-accounting.service';
export { UsageSettler } from './inference/usage-settler.service';
