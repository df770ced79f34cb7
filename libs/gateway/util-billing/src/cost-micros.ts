/** Micro-units in one unit of currency: every amount of money in Marquee is an integer of these. */
export const MICROS_PER_UNIT = 1_000_000n;
const TOKENS_PER_PRICE_UNIT = 1_000_000n;

/** What a request used and what its model charges. */
export interface CostInput {
  /** Prompt tokens the worker counted (non-negative integer). */
  promptTokens: number | bigint;
  /** Completion tokens the worker counted (non-negative integer). */
  completionTokens: number | bigint;
  /** Price of 1,000,000 prompt tokens, micro-units. */
  inputPricePerMTokMicros: bigint;
  /** Price of 1,000,000 completion tokens, micro-units. */
  outputPricePerMTokMicros: bigint;
}

function nonNegative(name: string, value: number | bigint): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    throw new RangeError(`${name} must be an integer, got ${value}`);
  const big = BigInt(value);
  if (big < 0n) throw new RangeError(`${name} must not be negative`);
  return big;
}

/**
 * The cost of a request in micro-units: `ceil((prompt * inPrice + completion * outPrice) / 1e6)`,
 * in BigInt arithmetic so no amount is ever rounded through a float. Rounds up, so a request
 * that used any priced token costs at least one micro-unit.
 */
export function costMicros(input: CostInput): bigint {
  const prompt = nonNegative('promptTokens', input.promptTokens);
  const completion = nonNegative('completionTokens', input.completionTokens);
  const inPrice = nonNegative(
    'inputPricePerMTokMicros',
    input.inputPricePerMTokMicros,
  );
  const outPrice = nonNegative(
    'outputPricePerMTokMicros',
    input.outputPricePerMTokMicros,
  );
  const scaled = prompt * inPrice + completion * outPrice;
  return (scaled + TOKENS_PER_PRICE_UNIT - 1n) / TOKENS_PER_PRICE_UNIT;
}
