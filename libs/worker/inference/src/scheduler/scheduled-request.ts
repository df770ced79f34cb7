import type { ChoiceStream } from '../choice-stream';
import type { ChoiceDelta, GenerationResult } from '../types';

/** One request as the scheduler runs it: a prompt and its choices, each a sequence of the batch. */
export interface ScheduledRequest {
  promptTokenIds: readonly number[];
  /** The request's choices; each becomes one sequence in the running batch. */
  choices: readonly ChoiceStream[];
  /** Most tokens each choice may generate (for the memory reservation). */
  maxTokens: number;
  /** Called once per model step with a delta for each of this request's choices that advanced. */
  onDelta: (deltas: ChoiceDelta[]) => void;
  /** Aborting it ends the request with `cancelled` (its partial result attached) at the next step. */
  signal?: AbortSignal;
}

/** A submitted request and its promise, from the queue until it resolves or rejects. */
export interface PendingRequest {
  spec: ScheduledRequest;
  /** Tokens it holds while admitted: prompt plus `maxTokens`, times its choices. */
  reservedTokens: number;
  /** Choices still generating; the request resolves when the last one finishes. */
  unfinished: number;
  /** Resolved or rejected: it holds no place in the queue and no reservation any more. */
  settled: boolean;
  resolve: (result: GenerationResult) => void;
  reject: (error: unknown) => void;
}

/** The request's result so far: each choice's text and the token counts. */
export function resultOf(spec: ScheduledRequest): GenerationResult {
  const choices = spec.choices.map((c) => c.result());
  return {
    promptTokens: spec.promptTokenIds.length,
    completionTokens: choices.reduce((sum, c) => sum + c.completionTokens, 0),
    choices,
  };
}

/**
 * Samples the choice's next token from its row of `logits` and describes it as a delta; counts
 * the request's choice as finished when this token ends it.
 */
export function sampleNext(
  request: PendingRequest,
  choice: ChoiceStream,
  logits: Float32Array,
): { delta: ChoiceDelta; token: number } {
  const token = choice.sample(logits);
  const text = choice.accept(token);
  const logprob = choice.lastLogprob();
  if (choice.finishReason) request.unfinished--;
  return {
    token,
    delta: {
      index: choice.index,
      text,
      tokens: 1,
      ...(logprob ? { logprobs: [logprob] } : {}),
    },
  };
}
