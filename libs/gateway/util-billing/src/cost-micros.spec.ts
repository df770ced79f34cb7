import { costMicros } from './cost-micros';

const prices = {
  inputPricePerMTokMicros: 150_000n,
  outputPricePerMTokMicros: 600_000n,
};

describe('costMicros', () => {
  it('charges exactly the listed price for a million tokens of each kind', () => {
    expect(
      costMicros({ promptTokens: 1_000_000, completionTokens: 0, ...prices }),
    ).toBe(150_000n);
    expect(
      costMicros({ promptTokens: 0, completionTokens: 1_000_000, ...prices }),
    ).toBe(600_000n);
  });

  it('rounds a fraction of a micro-unit up, never down', () => {
    // 7 * 0.15 + 3 * 0.6 = 2.85 micro-units
    expect(
      costMicros({ promptTokens: 7, completionTokens: 3, ...prices }),
    ).toBe(3n);
    expect(
      costMicros({ promptTokens: 0, completionTokens: 0, ...prices }),
    ).toBe(0n);
  });

  it('stays exact beyond the range of a double', () => {
    const huge = 10n ** 15n;
    expect(
      costMicros({
        promptTokens: huge,
        completionTokens: 1n,
        inputPricePerMTokMicros: 10n ** 12n,
        outputPricePerMTokMicros: 1n,
      }),
    ).toBe(10n ** 21n + 1n);
  });

  it('refuses negative or fractional token counts', () => {
    expect(() =>
      costMicros({ promptTokens: -1, completionTokens: 0, ...prices }),
    ).toThrow(RangeError);
    expect(() =>
      costMicros({ promptTokens: 1.5, completionTokens: 0, ...prices }),
    ).toThrow(RangeError);
  });
});
