export * from './feature-openai.module';
export { RequestAccounting } from './inference/request-accounting.service';
export { UsageSettler } from './inference/usage-settler.service';
