/** Cumulative counters, for metrics and benchmarks. */
export interface SchedulerStats {
  /** Prompts groups fully prefilled (a group may take several chunks). */
  prefills: number;
  /** Prefill model runs: one per chunk. */
  prefillChunks: number;
  /** Decode model runs: one per length group per step. */
  decodeSteps: number;
  /** Tokens sampled (prefill and decode). */
  tokens: number;
  /** Sum of the batch sizes of the decode runs. */
  decodeRows: number;
  /** Milliseconds inside model runs (ONNX Runtime plus tensor building). */
  forwardMs: number;
  /** Milliseconds of scheduler loop iterations, model runs included. */
  loopMs: number;
  /**
   * Milliseconds computing grammar masks for constrained choices, before the model runs whose
   * logits they mask (not part of `forwardMs`).
   */
  maskMs: number;
}

/** Counters at zero. */
export function emptySchedulerStats(): SchedulerStats {
  return {
    prefills: 0,
    prefillChunks: 0,
    decodeSteps: 0,
    tokens: 0,
    decodeRows: 0,
    forwardMs: 0,
    loopMs: 0,
    maskMs: 0,
  };
}
