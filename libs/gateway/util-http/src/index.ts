export * from './api-error';
export * from './openai-exception.filter';
export * from './principal';
export * from './fastify-hooks';
export * from './parse-input';
export * from './api-route';
