import * as ort from 'onnxruntime-node';
import type { ForwardInput, ForwardOutput } from './causal-lm-session';
import { hostLayers, KvCache, type KvLayout } from './kv-cache';
import type { ExecutionProvider } from './types';

/**
 * Logit of every token but the echoed one: far enough below 0 that softmax gives it no mass at
 * any temperature, logit bias or penalty, yet finite, so reported logprobs stay valid JSON.
 */
export const ECHO_NO_MASS_LOGIT = -1e4;

/**
 * The echo model's "KV cache": one value per position. `key` holds the token id at that position
 * and `value` the prompt length of its row, as known when the position was written (the prompt
 * is the row's first `value` real positions). Float32 holds both exactly below 2^24.
 */
const ECHO_LAYOUT: KvLayout = {
  layers: 1,
  heads: 1,
  headDim: 1,
  dtype: 'float32',
};

/**
 * A causal-LM session that runs no network: the next token of a row is its prompt's token at
 * the completion index, cycling (completion token `i` is prompt token `i mod promptLength`). Its
 * logits put all the mass on that token, so the scheduler, the sampler (temperature, seed,
 * logprobs), stop strings, `n` and usage run exactly as for a real model. The cache it keeps is
 * the sequence itself, with the same shape rules as a real one (left-padded rows, gathered and
 * tiled by the scheduler), so the prompt travels with each row through batching and regrouping.
 */
export class EchoSession {
  /** One float32 per position (key and value): 8 bytes a token. */
  readonly kvLayout: KvLayout = ECHO_LAYOUT;

  /**
   * @param vocabSize width of a logits row (`config.json` `vocab_size`).
   * @param executionProvider reported as configured (default `cpu`): no graph runs, and a GPU
   *   worker serving an echo model must not look like one that fell back to its CPU.
   */
  constructor(
    readonly vocabSize: number,
    readonly executionProvider: ExecutionProvider = 'cpu',
  ) {
    if (!Number.isInteger(vocabSize) || vocabSize < 1)
      throw new RangeError(
        `vocabSize must be a positive integer, got ${vocabSize}`,
      );
  }

  /**
   * One step over a batch: appends the new tokens to the cache and returns, for each row, logits
   * of its last position that choose the echoed token. Only last-position logits exist here.
   */
  async forward(
    input: ForwardInput,
    lastPositionOnly = false,
  ): Promise<ForwardOutput> {
    if (!lastPositionOnly)
      throw new RangeError(
        'the echo model computes only the last position (lastPositionOnly)',
      );
    return this.step(input);
  }

  /** Nothing native to free. */
  async release(): Promise<void> {
    // An echo model holds only typed arrays, which the garbage collector frees.
  }

  private step(input: ForwardInput): ForwardOutput {
    const { inputIds, attentionMask, phase = 'prefill' } = input;
    const batch = inputIds.length;
    const seq = inputIds[0]?.length ?? 0;
    const past = input.past ?? KvCache.empty(this.kvLayout, batch);
    const width = past.length;
    const total = width + seq;
    const [layer] = hostLayers(past);
    const pastIds = layer.key.data as Float32Array;
    const pastPrompt = layer.value.data as Float32Array;
    const ids = new Float32Array(batch * total);
    const prompt = new Float32Array(batch * total);
    const vocab = this.vocabSize;
    const logits = new Float32Array(batch * vocab).fill(ECHO_NO_MASS_LOGIT);

    for (let b = 0; b < batch; b++) {
      const row = b * total;
      ids.set(pastIds.subarray(b * width, (b + 1) * width), row);
      prompt.set(pastPrompt.subarray(b * width, (b + 1) * width), row);
      // Rows are left-padded: the mask is zeros, then ones up to the end.
      const mask = attentionMask?.[b];
      let pad = 0;
      if (mask) while (pad < total && mask[pad] === 0) pad++;
      const real = total - pad;
      // Prompt tokens make the prompt longer; a generated token leaves it as the past says.
      const promptLength =
        phase === 'decode' && width > 0
          ? pastPrompt[(b + 1) * width - 1]
          : real;
      const tokens = inputIds[b];
      for (let i = 0; i < seq; i++) {
        ids[row + width + i] = tokens[i];
        prompt[row + width + i] = promptLength;
      }
      // The next position's completion index; an all-padding row (an early chunk) echoes 0.
      if (promptLength > 0) {
        const next = (real - promptLength) % promptLength;
        logits[b * vocab + ids[row + pad + next]] = 0;
      }
    }
    const tensor = (data: Float32Array) =>
      new ort.Tensor('float32', data, [batch, 1, total, 1]);
    return {
      logits,
      logitsDims: [batch, 1, vocab],
      present: KvCache.fromLayers(this.kvLayout, [
        { key: tensor(ids), value: tensor(prompt) },
      ]),
    };
  }
}
