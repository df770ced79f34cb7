import { randomBytes } from 'node:crypto';

/**
 * A small, fast PRNG (xoshiro128**) whose stream is fixed by a seed and a stream number, so each
 * choice of a seeded request gets its own reproducible sequence.
 */
export class SeededRandom {
  private readonly s = new Uint32Array(4);

  /**
   * @param seed any safe integer (negative allowed); omit for a random stream.
   * @param stream separates the sequences of one seed (the choice index).
   */
  constructor(seed?: number, stream = 0) {
    if (seed === undefined) {
      const bytes = randomBytes(16);
      for (let i = 0; i < 4; i++) this.s[i] = bytes.readUInt32LE(i * 4);
    } else {
      const lo = seed >>> 0;
      const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
      let x = SeededRandom.mix(lo ^ SeededRandom.mix(hi ^ 0x9e3779b9));
      x = SeededRandom.mix(x ^ SeededRandom.mix((stream >>> 0) + 0x7f4a7c15));
      for (let i = 0; i < 4; i++) {
        x = SeededRandom.mix(x + 0x9e3779b9 * (i + 1));
        this.s[i] = x;
      }
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** A float uniformly drawn from [0, 1). */
  next(): number {
    const s = this.s;
    const result = Math.imul(SeededRandom.rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = SeededRandom.rotl(s[3], 11);
    return result / 0x1_0000_0000;
  }

  private static rotl(x: number, k: number): number {
    return (x << k) | (x >>> (32 - k));
  }

  // murmur3's 32-bit finaliser: spreads every input bit over the output.
  private static mix(h: number): number {
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }
}
