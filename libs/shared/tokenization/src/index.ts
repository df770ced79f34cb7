export * from './chat-template';
export * from './prompt';
export * from './prompt-tokenizer';
