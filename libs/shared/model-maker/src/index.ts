export { makeCausalLm } from './make-causal-lm';
export type { MakeCausalLmOptions, MadeModel } from './make-causal-lm';
export {
  readGpt2Weights,
  referenceForward,
} from './reference/reference-forward';
export type {
  Gpt2Weights,
  ReferencePast,
  ReferenceResult,
} from './reference/reference-forward';
export { CHAT_TEMPLATE, SPECIAL_TOKENS } from './tokenizer/tokenizer-files';
export { float32ToFloat16, float16ToFloat32 } from './fp16';
export { makeEncoder } from './make-encoder';
export { makeEcho } from './make-echo';
export type { MakeEchoOptions, MadeEcho } from './make-echo';
export type { MakeEncoderOptions, MadeEncoder } from './make-encoder';
export {
  readEncoderWeights,
  referenceEmbedding,
} from './reference/reference-encoder';
export type { EncoderWeights } from './reference/reference-encoder';
