export * from './byte-level';
export * from './chat-template';
export * from './prompt';
export * from './prompt-tokenizer';
export * from './tool-call-format';
