export * from './feature-openai.module';
