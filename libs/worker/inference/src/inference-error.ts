import type { GenerationResult } from './types';

/** Why a request could not be (fully) served; edges map `code` to their own error shapes. */
export type InferenceErrorCode =
  | 'context_length_exceeded'
  | 'invalid_prompt'
  | 'cancelled'
  | 'model_error';

/**
 * An engine error with a machine-readable code and, where it applies, the request field at fault
 * (`max_tokens`, `prompt`, `messages`). A cancelled run carries what was generated before the cancel
 * in `partial`, so the caller can still bill it.
 */
export class InferenceError extends Error {
  override readonly name = 'InferenceError';
  /** Set on `cancelled`: counts and text generated before the cancel. */
  partial?: GenerationResult;

  constructor(
    readonly code: InferenceErrorCode,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}
