import { Sampler } from './sampler';

const logits = Float32Array.from([1, 3, 2.5, -1, 0]);

function histogram(sampler: Sampler, draws: number): number[] {
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampler.sample(logits)]++;
  return counts;
}

describe('Sampler', () => {
  it('picks the largest logit when temperature is 0', () => {
    const sampler = new Sampler({ temperature: 0, topP: 1 });
    expect(histogram(sampler, 50)).toEqual([0, 50, 0, 0, 0]);
  });

  it('returns the first index of tied maxima as argmax', () => {
    expect(Sampler.argmax([0, 2, 2, 1])).toBe(1);
  });

  it('only ever picks the top token when top_p is tiny', () => {
    const sampler = new Sampler({ temperature: 1, topP: 1e-6, seed: 7 });
    expect(histogram(sampler, 200)).toEqual([0, 200, 0, 0, 0]);
  });

  it('restricts sampling to the nucleus whose mass reaches top_p', () => {
    // softmax: token 1 ≈ 0.55, token 2 ≈ 0.33; top_p 0.8 keeps exactly these two.
    const counts = histogram(
      new Sampler({ temperature: 1, topP: 0.8, seed: 1 }),
      2000,
    );
    expect(counts[0] + counts[3] + counts[4]).toBe(0);
    expect(counts[1]).toBeGreaterThan(counts[2]);
    expect(counts[2]).toBeGreaterThan(0);
  });

  it('follows the softmax distribution at temperature 1', () => {
    const draws = 20000;
    const counts = histogram(
      new Sampler({ temperature: 1, topP: 1, seed: 3 }),
      draws,
    );
    const exp = Array.from(logits, (l) => Math.exp(l));
    const total = exp.reduce((a, b) => a + b, 0);
    exp.forEach((e, i) => expect(counts[i] / draws).toBeCloseTo(e / total, 1));
  });

  it('flattens the distribution at a high temperature and sharpens it at a low one', () => {
    const share = (temperature: number) =>
      histogram(new Sampler({ temperature, topP: 1, seed: 5 }), 5000)[1] / 5000;
    expect(share(0.1)).toBeGreaterThan(0.95);
    expect(share(100)).toBeLessThan(0.3);
  });

  it('draws the same tokens for the same seed and stream, and different ones for another stream', () => {
    const run = (seed: number, stream: number) => {
      const sampler = new Sampler({ temperature: 2, topP: 1, seed, stream });
      return Array.from({ length: 40 }, () => sampler.sample(logits));
    };
    expect(run(42, 0)).toEqual(run(42, 0));
    expect(run(42, 1)).not.toEqual(run(42, 0));
    expect(run(43, 0)).not.toEqual(run(42, 0));
  });

  it('only ever picks among the top k tokens', () => {
    const counts = histogram(
      new Sampler({ temperature: 5, topP: 1, topK: 2, seed: 4 }),
      2000,
    );
    expect(counts[0] + counts[3] + counts[4]).toBe(0);
    expect(counts[1]).toBeGreaterThan(0);
    expect(counts[2]).toBeGreaterThan(0);
  });

  it('applies logit bias: -100 bans a token and +100 forces one', () => {
    const banned = new Sampler({
      temperature: 0,
      topP: 1,
      logitBias: new Map([[1, -100]]),
    });
    expect(banned.sample(logits)).toBe(2);
    const forced = new Sampler({
      temperature: 1,
      topP: 1,
      seed: 2,
      logitBias: new Map([[4, 100]]),
    });
    expect(histogram(forced, 100)[4]).toBe(100);
  });

  it('penalises tokens already generated: presence once, frequency per occurrence', () => {
    // Greedy: token 1 (3.0) then 2 (2.5) once 1 is penalised by 1, then 1 again (2.0 vs 1.5).
    const presence = new Sampler({
      temperature: 0,
      topP: 1,
      presencePenalty: 1,
    });
    expect([0, 1, 2, 3].map(() => presence.sample(logits))).toEqual([
      1, 2, 1, 1,
    ]);
    const frequency = new Sampler({
      temperature: 0,
      topP: 1,
      frequencyPenalty: 0.4,
    });
    // 1: 3.0, then 2.6 > 2.5, then 2.2 < 2.5 -> 2, then 2.2 > 2.1 -> 1.
    expect([0, 1, 2, 3].map(() => frequency.sample(logits))).toEqual([
      1, 1, 2, 1,
    ]);
  });

  it('reports the log-probability of the picked token and the top alternatives, most likely first', () => {
    const sampler = new Sampler({ temperature: 0, topP: 1, logprobs: 3 });
    const picked = sampler.pick(logits);
    const z = Math.log(Array.from(logits).reduce((s, l) => s + Math.exp(l), 0));
    expect(picked.token).toBe(1);
    expect(picked.logprob).toBeCloseTo(3 - z, 10);
    expect(picked.top?.map((t) => t.token)).toEqual([1, 2, 0]);
    expect(picked.top?.[2].logprob).toBeCloseTo(1 - z, 10);
    expect(
      new Sampler({ temperature: 0, topP: 1 }).pick(logits).logprob,
    ).toBeUndefined();
  });
});

describe('Sampler logprobs beside a grammar mask', () => {
  it('never lists a masked-out token (-Infinity) among the alternatives', () => {
    const logits = Float32Array.from([0.5, -Infinity, 0.2, -Infinity]);
    const picked = new Sampler({ temperature: 0, topP: 1, logprobs: 4 }).pick(
      logits,
    );
    expect(picked.top?.map((c) => c.token)).toEqual([0, 2]);
    expect(picked.top?.every((c) => Number.isFinite(c.logprob))).toBe(true);
  });
});
