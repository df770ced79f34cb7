export type {
  ChatMessage,
  ChoiceDelta,
  ChoiceResult,
  ExecutionProvider,
  FinishReason,
  GenerationParams,
  GenerationResult,
  OrtRuntime,
  PromptInput,
  SchedulerLimits,
  TextGeneratorOptions,
  TokenLogprob,
  TokenLogprobCandidate,
} from './types';
export {
  BatchScheduler,
  DEFAULT_SCHEDULER_LIMITS,
  type BatchModel,
  type ScheduledRequest,
  type SchedulerStats,
} from './batch-scheduler';
export { InferenceError, type InferenceErrorCode } from './inference-error';
export { completionBudget, type ContextClaim } from './context-window';
export { TextGenerator } from './text-generator';
export {
  CausalLmSession,
  type ForwardInput,
  type ForwardOutput,
} from './causal-lm-session';
export { ECHO_NO_MASS_LOGIT, EchoSession } from './echo-session';
export { KvCache, type KvDtype, type KvLayer, type KvLayout } from './kv-cache';
export {
  Sampler,
  type SampledToken,
  type SamplerOptions,
  type TokenCandidate,
} from './sampler';
export { SeededRandom } from './seeded-random';
export { ChoiceStream, type ChoiceStreamOptions } from './choice-stream';
export { IncrementalDecoder, type DecodeTokens } from './incremental-decoder';
export { StopMatcher, type StopMatch } from './stop-matcher';
export {
  Embedder,
  type EmbedderBatching,
  type EmbedderOptions,
  type EmbedderStats,
} from './embedder';
export {
  type DeviceTensor,
  type HostTensor,
  type NativeSession,
  type OrtAddon,
  type OutputPlacement,
  loadOrtAddon,
  ortAddonPath,
} from './native/ort-addon';
export {
  bundledPaddleOcr,
  OcrImageError,
  OcrModel,
  type OcrStats,
  type OcrLine,
  type OcrModelFiles,
  type OcrResult,
} from './ocr/ocr-model';
