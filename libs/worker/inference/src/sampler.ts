import { SeededRandom } from './seeded-random';

/** Sampling settings for one choice. */
export interface SamplerOptions {
  /** 0 = greedy argmax; otherwise softmax temperature. */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 disables the filter. */
  topP: number;
  /** Seed of the request; omit for random output. */
  seed?: number;
  /** Stream of the seed, normally the choice index, so choices differ but each is reproducible. */
  stream?: number;
}

/** Picks the next token from one row of logits: greedy, or temperature + top-p with a seeded PRNG. */
export class Sampler {
  private readonly random: SeededRandom;

  constructor(private readonly options: SamplerOptions) {
    this.random = new SeededRandom(options.seed, options.stream ?? 0);
  }

  /** Returns the index of the largest logit (the first one on ties). */
  static argmax(logits: ArrayLike<number>): number {
    let best = 0;
    let bestValue = -Infinity;
    for (let i = 0; i < logits.length; i++) {
      if (logits[i] > bestValue) {
        bestValue = logits[i];
        best = i;
      }
    }
    return best;
  }

  /** Draws a token id from `logits` (one vocabulary row). */
  sample(logits: ArrayLike<number>): number {
    const { temperature, topP } = this.options;
    if (temperature <= 0) return Sampler.argmax(logits);

    const vocab = logits.length;
    const max = logits[Sampler.argmax(logits)];
    const probs = new Float64Array(vocab);
    let sum = 0;
    for (let i = 0; i < vocab; i++) {
      const p = Math.exp((logits[i] - max) / temperature);
      probs[i] = p;
      sum += p;
    }

    if (topP >= 1) return this.draw(probs, sum);

    // Nucleus: the most probable tokens until their mass reaches topP (at least one). A numeric
    // typed-array sort finds the smallest kept probability; ties with it are kept too.
    const sorted = probs.slice().sort();
    const limit = topP * sum;
    let mass = 0;
    let k = vocab - 1;
    for (; k > 0; k--) {
      mass += sorted[k];
      if (mass >= limit) break;
    }
    const threshold = sorted[k];
    let kept = 0;
    for (let i = 0; i < vocab; i++) {
      if (probs[i] < threshold) probs[i] = 0;
      else kept += probs[i];
    }
    return this.draw(probs, kept);
  }

  private draw(weights: Float64Array, total: number): number {
    let target = this.random.next() * total;
    let last = 0;
    for (let i = 0; i < weights.length; i++) {
      if (weights[i] <= 0) continue;
      last = i;
      target -= weights[i];
      if (target < 0) return i;
    }
    return last;
  }
}
